"""Handlers called from `ragkube_operator.main`: build, adopt, apply, report."""

"""Fixtures of the operator's unit tests."""

from __future__ import annotations

import pytest
from ragkube_operator.models import RagDeployment

from .operator_factories import make_rd


@pytest.fixture
def rd() -> RagDeployment:
    """A RagDeployment with every default."""
    return make_rd()

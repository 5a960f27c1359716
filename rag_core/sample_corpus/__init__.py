"""The bundled sample corpus (Markdown files read with importlib.resources)."""

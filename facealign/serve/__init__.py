"""``facealign serve``: landmarks behind an HTTP endpoint, and a page to try them (FastAPI + uvicorn,
``pip install 'facealign[serve]'``)."""

from facealign.serve.config import ServeConfig

__all__ = ["ServeConfig", "create_app"]


def create_app(config: ServeConfig | None = None, aligner=None):
    """The ASGI app (FastAPI) for ``config``; ``aligner``: a ready FaceAligner to share."""
    from facealign.serve.app import create_app as _create

    return _create(config or ServeConfig(), aligner)

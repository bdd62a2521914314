"""skecd: elastic moduli of crystals from their electronic charge density.

scikit-learn compatible transformers (voxelising charge densities, axis
projections, Magpie features), skorch regressors (the 3D CNN, the
squeeze-and-excitation projected 2D CNN, the Magpie CNN and their fusion of
Zhao et al.), a leave-one-element-out splitter, and a bundled dataset of real
DFT charge densities and elastic moduli.

Subpackages: :mod:`skecd.io`, :mod:`skecd.preprocessing`, :mod:`skecd.models`,
:mod:`skecd.model_selection`, :mod:`skecd.datasets`, :mod:`skecd.persistence`
(:func:`save_model`, :func:`load_model`: safe model files) and
:mod:`skecd.pretrained` (the models shipped with the package).
"""

from ._version import __version__

__all__ = ["__version__", "load_model", "save_model"]


def __getattr__(name):
    # Imported on first use so that ``import skecd`` (and the CLI) stays light.
    if name in ("load_model", "save_model"):
        from . import persistence

        return getattr(persistence, name)
    raise AttributeError(f"module 'skecd' has no attribute {name!r}")

"""The published figures of the paper skecd's benchmark follows, for comparison columns.

Zhao, Yuan, Liu, Louis, Hu and Hu, "Predicting elastic properties of materials from
electronic charge density using 3D deep convolutional neural networks" (2022), Table 2:
5-fold cross-validation on FCC2170 (2,170 Fm-3m materials of the Materials Project with
VASP charge densities; the densities are not public, so these figures cannot be
reproduced on skecd's data: GPAW densities of 369 Fm-3m materials).
"""

from __future__ import annotations

__all__ = ["PAPER", "PAPER_TABLE2"]

PAPER = "Zhao et al. 2022, Table 2 (5-fold CV on FCC2170: 2,170 Fm-3m materials, VASP densities)"

#: registry name -> target -> (R², RMSE in GPa), transcribed from the paper's Table 2.
PAPER_TABLE2 = {
    "rf_magpie": {"K_VRH": (0.943, 18.721), "G_VRH": (0.794, 16.142)},
    "cnn_magpie": {"K_VRH": (0.944, 18.423), "G_VRH": (0.745, 17.959)},
    "cnn3d_ecd": {"K_VRH": (0.884, 26.819), "G_VRH": (0.745, 17.944)},
    "cnn2d_ecd": {"K_VRH": (0.912, 23.401), "G_VRH": (0.768, 17.192)},
    # the paper's fusion joins the Magpie CNN with the 2D (SE-projected) network
    "fusion": {"K_VRH": (0.955, 16.530), "G_VRH": (0.804, 15.780)},
}

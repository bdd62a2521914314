"""Plain torch modules of the seed paper's networks (Zhao et al., sections 2.3-2.4).

Each module has ``forward_features`` (the penultimate layer, used by the
fusion model) and ``forward`` (one output per target). Layer sizes are
computed from the input size given at construction, so the networks work for
grids other than the paper's 60^3.
"""

from __future__ import annotations

import functools
import math

import torch
from torch import nn

__all__ = ["ECD3DCNN", "MagpieCNN", "PatchConv3d", "SEProjectedCNN"]


class PatchConv3d(nn.Conv3d):
    """A ``Conv3d`` whose kernel equals its stride, computed as one matrix product.

    With ``kernel_size == stride``, no padding, dilation 1 and one group, a 3D
    convolution cuts the input into disjoint ``k^3`` patches and applies one
    linear map to each: a patch embedding. Reshaping the patches into the rows
    of a matrix and multiplying by the flattened weight gives the same result
    (up to float rounding) with a single GEMM, which runs several times faster on
    a CPU than the generic convolution kernels for these shapes (see
    ``benchmarks/bench_flop_rate.py``). Parameters and ``state_dict`` keys are
    those of ``nn.Conv3d``, so weights move freely between the two. Other
    configurations fall back to ``nn.Conv3d.forward``.
    """

    def _is_patch(self):
        no_padding = self.padding == "valid" or (
            not isinstance(self.padding, str) and all(p == 0 for p in self.padding)
        )
        return (
            tuple(self.kernel_size) == tuple(self.stride)
            and no_padding
            and self.groups == 1
            and tuple(self.dilation) == (1, 1, 1)
            and self.padding_mode == "zeros"
        )

    def forward(self, x):
        """Convolve ``x`` of shape (n, c, d1, d2, d3)."""
        if not self._is_patch():
            return super().forward(x)
        n, c = x.shape[:2]
        k1, k2, k3 = self.kernel_size
        o1, o2, o3 = x.shape[2] // k1, x.shape[3] // k2, x.shape[4] // k3
        # Hand-written because torch has no patch-embedding primitive for 3D inputs:
        # crop to whole patches, move each patch's (c, k1, k2, k3) values into one row.
        x = x[:, :, : o1 * k1, : o2 * k2, : o3 * k3]
        rows = (
            x.reshape(n, c, o1, k1, o2, k2, o3, k3)
            .permute(0, 2, 4, 6, 1, 3, 5, 7)
            .reshape(n * o1 * o2 * o3, c * k1 * k2 * k3)
        )
        weight = self.weight.reshape(self.out_channels, -1)
        if self.bias is None:
            out = rows @ weight.t()
        else:
            out = torch.addmm(self.bias, rows, weight.t())
        return out.reshape(n, o1, o2, o3, self.out_channels).permute(0, 4, 1, 2, 3)


def _linear_relu(x, weight, bias):
    """``relu(x @ weight.T + bias)`` with torch's public ``addmm`` and an in-place ReLU."""
    out = x @ weight.t() if bias is None else torch.addmm(bias, x, weight.t())
    return torch.relu_(out)


@functools.lru_cache(maxsize=8)
def _patch_order(shape, blocks, outer, inner, device):
    """Flat indices that put a (d1, d2, d3) cube's voxels in two-level patch order.

    Row r of the result's (-1, prod(inner)) view holds first-layer patch r, the
    rows ordered by second-layer patch and then by position inside it. One
    ``index_select`` with this index took a quarter of the time of the
    equivalent ten-axis permute copy (whose innermost runs are only 5 voxels).
    """
    (b1, b2, b3), (p1, p2, p3), (q1, q2, q3) = blocks, outer, inner
    index = torch.arange(math.prod(shape), device=device).reshape(shape)
    index = index[: b1 * p1 * q1, : b2 * p2 * q2, : b3 * p3 * q3]
    return (
        index.reshape(b1, p1, q1, b2, p2, q2, b3, p3, q3)
        .permute(0, 3, 6, 1, 4, 7, 2, 5, 8)
        .reshape(-1)
    )


def _is_identity_pool(pool):
    """Whether ``pool`` is a max-pool that returns its input unchanged (a 1^3 window)."""
    return (
        isinstance(pool, nn.MaxPool3d)
        and all(v in (1, (1, 1, 1)) for v in (pool.kernel_size, pool.stride, pool.dilation))
        and pool.padding in (0, (0, 0, 0))
    )


def _conv_out(size, kernel, stride, padding=0):
    return (size + 2 * padding - kernel) // stride + 1


def _dense_stack(n_in, widths):
    """``Linear + ReLU`` layers of the given widths; returns (Sequential, n_out)."""
    layers = []
    for width in widths:
        layers += [nn.Linear(n_in, int(width)), nn.ReLU()]
        n_in = int(width)
    return nn.Sequential(*layers), n_in


def _too_small(name, size, detail):
    return ValueError(
        f"{name}: grid size D={size} is too small for the convolutions ({detail}); "
        "use a larger grid or smaller kernels (module__conv1_kernel, module__conv2_kernel)."
    )


class ECD3DCNN(nn.Module):
    """3D CNN on a voxelised charge density (the paper's "3D CNN").

    conv3d(1 -> ``conv1_channels``, kernel and stride ``conv1_kernel``) -> ReLU ->
    conv3d(-> ``conv2_channels``, kernel and stride ``conv2_kernel``) -> ReLU ->
    max-pool 2^3 -> flatten -> seven dense layers (ReLU) -> linear output.
    At D=60 the spatial sizes are 60 -> 12 -> 3 -> 1.

    Parameters
    ----------
    grid_size : int, default=60
        Edge D of the input cube (input shape (n, 1, D, D, D)).
    n_outputs : int, default=1
        Number of targets.
    conv1_channels : int, default=200
        Filters of the first convolution (the paper's 200).
    conv2_channels : int, default=256
        Filters of the second convolution. The paper does not give this
        width; 256 is our choice.
    conv1_kernel, conv2_kernel : int, default=5 and 4
        Kernel size (= stride) of the two convolutions (the paper's 5 and 4).
    dense_widths : sequence of int, default=(512, 256, 256, 128, 128, 64, 32)
        Widths of the dense layers (seven in the paper, whose widths it does
        not give: ours narrow to 32 so the penultimate embedding matches the
        Magpie branch in the fusion model).

    Notes
    -----
    The 2^3 max-pool window shrinks to the map size when the second
    convolution's output is smaller than 2 (D < 40 with the default kernels),
    so small test grids (D >= 20) still work; at D >= 40 the network is the
    paper's. Pooling floors, as in the paper's sizes: at D=60 the 2^3 window
    reads the first 2^3 of the 3^3 map, so the output depends on the first 40^3
    voxels of the cube only.

    With :class:`PatchConv3d` layers the two convolutions run as two matrix
    products on patches gathered once (``_patch_features``), with torch's public
    ``addmm``: at D=60, batch 32, a training step reached 69% of the CPU's fp32 matmul
    rate in one run on a loaded 2-core machine (73 to 76% with the former private oneDNN
    second layer) against 33 to 35% with ``nn.Conv3d`` (``benchmarks/bench_flop_rate.py``).
    """

    def __init__(
        self,
        grid_size=60,
        n_outputs=1,
        conv1_channels=200,
        conv2_channels=256,
        conv1_kernel=5,
        conv2_kernel=4,
        dense_widths=(512, 256, 256, 128, 128, 64, 32),
    ):
        super().__init__()
        s1 = _conv_out(grid_size, conv1_kernel, conv1_kernel)
        s2 = _conv_out(s1, conv2_kernel, conv2_kernel) if s1 >= 1 else 0
        if s1 < 1 or s2 < 1:
            raise _too_small(
                "ECD3DCNN",
                grid_size,
                f"kernels {conv1_kernel} and {conv2_kernel}, sizes {s1}, {s2}",
            )
        pool = min(2, s2)
        s3 = s2 // pool
        self.features = nn.Sequential(
            PatchConv3d(1, conv1_channels, conv1_kernel, stride=conv1_kernel),
            nn.ReLU(),
            PatchConv3d(conv1_channels, conv2_channels, conv2_kernel, stride=conv2_kernel),
            nn.ReLU(),
            nn.MaxPool3d(pool),
            nn.Flatten(),
        )
        self.dense, n_last = _dense_stack(conv2_channels * s3**3, dense_widths)
        self.out = nn.Linear(n_last, n_outputs)

    def forward_features(self, x):
        """Penultimate-layer outputs, shape (n, dense_widths[-1])."""
        conv1, conv2 = self.features[0], self.features[2]
        if isinstance(conv1, PatchConv3d) and isinstance(conv2, PatchConv3d):
            if conv1._is_patch() and conv2._is_patch() and x.shape[1] == 1:
                return self.dense(self._patch_features(x, conv1, conv2))
        return self.dense(self.features(x))

    def _patch_features(self, x, conv1, conv2):
        """``self.features(x)`` for two stacked patch convolutions, without copies.

        Hand-written because no torch primitive nests patch embeddings: the
        input is gathered once so that the first layer's output rows already lie
        in the order of the second layer's patches, which then is a plain view
        (no permute copies of the large activations, whose copies and strided
        ReLU took half of a training step). Same numbers as ``self.features``
        up to float rounding (tested).
        """
        n = x.shape[0]
        k1, k2 = conv1.kernel_size, conv2.kernel_size
        blocks = [d // k1[i] // k2[i] for i, d in enumerate(x.shape[2:])]
        b1, b2, b3 = blocks
        (p1, p2, p3), (q1, q2, q3) = k2, k1
        # Input voxels past the last whole second-layer patch feed nothing: the
        # index skips them.
        index = _patch_order(tuple(x.shape[2:]), tuple(blocks), tuple(k2), tuple(k1), x.device)
        rows = x.reshape(n, -1).index_select(1, index).reshape(-1, q1 * q2 * q3)
        # The second layer needs each patch's (channel, position) values in a
        # row; the weight holds (channel, position). Reorder whichever is
        # smaller: the activations when there are fewer patches than output
        # channels (small grids), else the weight (its gradient's copy back is
        # then the cheaper). The activations are reordered cheaply by computing
        # the first layer transposed, as (channel, patch, position): the copy
        # then moves whole runs of positions instead of single values.
        n_patches, taps = n * b1 * b2 * b3, p1 * p2 * p3
        w1 = conv1.weight.reshape(conv1.out_channels, -1)
        if n_patches < conv2.out_channels:
            h = torch.relu_(torch.addmm(conv1.bias[:, None], w1, rows.t()))
            h = h.reshape(-1, n_patches, taps).transpose(0, 1).reshape(n_patches, -1)
            w2 = conv2.weight.reshape(conv2.out_channels, -1)
        else:
            h = torch.relu_(torch.addmm(conv1.bias, rows, w1.t())).reshape(n_patches, -1)
            w2 = conv2.weight.permute(0, 2, 3, 4, 1).reshape(conv2.out_channels, -1)
        h = _linear_relu(h, w2, conv2.bias)
        h = h.reshape(n, b1, b2, b3, -1).permute(0, 4, 1, 2, 3)
        pool = self.features[4]
        if not _is_identity_pool(pool):  # skipping a 1^3 pool saved ~0.15 ms a step
            h = pool(h)
        return self.features[5](h)

    def forward(self, x):
        """Predictions, shape (n, n_outputs)."""
        return self.out(self.forward_features(x))


class _SEBlock(nn.Module):
    """Squeeze-and-excitation: 1x1 conv to ``channels`` maps, then rescale them."""

    def __init__(self, in_channels, channels, reduction):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, channels, 1)
        self.excite = nn.Sequential(
            nn.Linear(channels, reduction),
            nn.ReLU(),
            nn.Linear(reduction, channels),
            nn.Sigmoid(),
        )

    def forward(self, x):
        maps = self.conv(x)
        weights = self.excite(maps.mean(dim=(2, 3)))
        return maps * weights[:, :, None, None]


class SEProjectedCNN(nn.Module):
    """SE + 2D CNN on the three axis views of a density cube (the paper's "SE-CNN").

    Input (n, 3, D, D, D) from ``AxisProjector``: view k is a D x D image
    with D channels. Each view has its own SE block (1x1 conv to
    ``se_channels`` maps, global average pool, dense ``se_reduction`` and
    ``se_channels``, sigmoid, channel rescale) and CNN block (conv
    ``conv1_channels`` 6x6 stride 6, ReLU, conv ``conv2_channels`` 5x5 stride
    2, ReLU, max-pool 2x2). The three outputs are concatenated (384 at D=60)
    and go through dense layers (ReLU) and a linear output.

    Parameters
    ----------
    grid_size : int, default=60
        Edge D of the cube.
    n_outputs : int, default=1
        Number of targets.
    se_channels : int, default=24
        Maps of the SE block.
    se_reduction : int, default=4
        Width of the SE bottleneck.
    conv1_channels, conv2_channels : int, default=64 and 128
        Filters of the two convolutions.
    conv1_kernel, conv1_stride : int, default=6 and 6
        First convolution.
    conv2_kernel, conv2_stride : int, default=5 and 2
        Second convolution.
    dense_widths : sequence of int, default=(4096, 4096, 128, 128, 128, 32)
        Dense layers after the concatenation (the paper's).

    Notes
    -----
    As in ``ECD3DCNN`` the 2x2 pool window shrinks to the map size when the
    second convolution's output is 1 x 1 (30 <= D < 42 with the default
    kernels; D < 30 needs smaller kernels).
    """

    def __init__(
        self,
        grid_size=60,
        n_outputs=1,
        se_channels=24,
        se_reduction=4,
        conv1_channels=64,
        conv2_channels=128,
        conv1_kernel=6,
        conv1_stride=6,
        conv2_kernel=5,
        conv2_stride=2,
        dense_widths=(4096, 4096, 128, 128, 128, 32),
    ):
        super().__init__()
        s1 = _conv_out(grid_size, conv1_kernel, conv1_stride)
        s2 = _conv_out(s1, conv2_kernel, conv2_stride) if s1 >= 1 else 0
        if s1 < 1 or s2 < 1:
            raise _too_small(
                "SEProjectedCNN",
                grid_size,
                f"kernels {conv1_kernel}/{conv1_stride} and {conv2_kernel}/{conv2_stride}, "
                f"sizes {s1}, {s2}",
            )
        pool = min(2, s2)
        s3 = s2 // pool
        self.se = nn.ModuleList(_SEBlock(grid_size, se_channels, se_reduction) for _ in range(3))
        self.cnn = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(se_channels, conv1_channels, conv1_kernel, stride=conv1_stride),
                nn.ReLU(),
                nn.Conv2d(conv1_channels, conv2_channels, conv2_kernel, stride=conv2_stride),
                nn.ReLU(),
                nn.MaxPool2d(pool),
                nn.Flatten(),
            )
            for _ in range(3)
        )
        self.dense, n_last = _dense_stack(3 * conv2_channels * s3**2, dense_widths)
        self.out = nn.Linear(n_last, n_outputs)

    def forward_features(self, x):
        """Penultimate-layer outputs, shape (n, dense_widths[-1])."""
        # Each view goes in channels-last: oneDNN's 2D convolutions then skip their layout
        # reorders, and a training step is about 20% faster on a CPU (60^3, batch 32;
        # ``benchmarks/bench_flop_rate.py``), with the same results.
        views = [
            cnn(se(x[:, k].contiguous(memory_format=torch.channels_last)))
            for k, (se, cnn) in enumerate(zip(self.se, self.cnn))
        ]
        return self.dense(torch.cat(views, dim=1))

    def forward(self, x):
        """Predictions, shape (n, n_outputs)."""
        return self.out(self.forward_features(x))


class MagpieCNN(nn.Module):
    """2D CNN on Magpie features laid out as an image (the paper's "CNN+Magpie").

    The (n, n_features) table is zero-padded to ``image_size**2`` columns
    (132 Magpie values + 12 zeros = 12 x 12 in the paper) and reshaped to
    (n, 1, image_size, image_size); then conv 32 3x3, ReLU, conv 48 3x3,
    ReLU, avg-pool 2x2, conv 64 3x3, ReLU, dense 48 and 32 (ReLU), linear
    output.

    Parameters
    ----------
    n_features : int, default=132
        Columns of the input table (at most ``image_size**2``).
    n_outputs : int, default=1
        Number of targets.
    conv_channels : sequence of 3 int, default=(32, 48, 64)
        Filters of the three convolutions.
    dense_widths : sequence of int, default=(48, 32)
        Dense layers.
    image_size : int or None, default=12
        Side of the square image; ``None`` uses ``ceil(sqrt(n_features))``
        (at least 10, the smallest side the three 3x3 convolutions and the
        pool accept).
    """

    def __init__(
        self,
        n_features=132,
        n_outputs=1,
        conv_channels=(32, 48, 64),
        dense_widths=(48, 32),
        image_size=12,
    ):
        super().__init__()
        side = image_size if image_size is not None else max(10, math.ceil(math.sqrt(n_features)))
        if n_features > side * side:
            raise ValueError(
                f"MagpieCNN: {n_features} features do not fit a {side}x{side} image; "
                "raise module__image_size."
            )
        s = ((side - 2 - 2) // 2) - 2
        if s < 1:
            raise ValueError(f"MagpieCNN: image_size={side} is too small (needs >= 10).")
        self.n_features = n_features
        self.side = side
        c1, c2, c3 = (int(c) for c in conv_channels)
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 3),
            nn.ReLU(),
            nn.AvgPool2d(2),
            nn.Conv2d(c2, c3, 3),
            nn.ReLU(),
            nn.Flatten(),
        )
        self.dense, n_last = _dense_stack(c3 * s * s, dense_widths)
        self.out = nn.Linear(n_last, n_outputs)

    def _image(self, x):
        pad = self.side * self.side - x.shape[1]
        if pad:
            x = nn.functional.pad(x, (0, pad))
        return x.reshape(len(x), 1, self.side, self.side)

    def forward_features(self, x):
        """Penultimate-layer outputs, shape (n, dense_widths[-1])."""
        return self.dense(self.features(self._image(x)))

    def forward(self, x):
        """Predictions, shape (n, n_outputs)."""
        return self.out(self.forward_features(x))

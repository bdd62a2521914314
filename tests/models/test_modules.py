"""The plain torch modules: shapes, sizes following the input, clear errors."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
import torch

from skecd.models import ECD3DCNN, MagpieCNN, PatchConv3d, SEProjectedCNN, _modules


@pytest.mark.parametrize("grid_size", [20, 40, 60])
def test_ecd3dcnn_sizes_follow_grid(grid_size):
    net = ECD3DCNN(
        grid_size=grid_size, n_outputs=2, conv1_channels=3, conv2_channels=5, dense_widths=(7, 6)
    )
    x = torch.rand(2, 1, grid_size, grid_size, grid_size)
    assert net(x).shape == (2, 2)
    assert net.forward_features(x).shape == (2, 6)
    # at D >= 40 the pool is the paper's 2^3; below, the window shrinks to the 1^3 map
    pool = net.features[4]
    assert pool.kernel_size == (2 if grid_size >= 40 else 1)
    assert net.dense[0].in_features == 5  # 60 -> 12 -> 3 -> 1, 40 -> 8 -> 2 -> 1, 20 -> 4 -> 1


def _grads(net):
    return [p.grad.clone() for p in net.parameters()]


def test_patchconv3d_equals_conv3d():
    torch.manual_seed(0)
    patch = PatchConv3d(3, 4, 3, stride=3)
    plain = torch.nn.Conv3d(3, 4, 3, stride=3)
    plain.load_state_dict(patch.state_dict())
    x = torch.rand(2, 3, 10, 9, 11)  # edges not multiples of the kernel: cropped alike
    a, b = patch(x), plain(x)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    a.square().sum().backward()
    b.square().sum().backward()
    torch.testing.assert_close(patch.weight.grad, plain.weight.grad, rtol=1e-4, atol=1e-5)
    # a configuration that is not a patch embedding takes Conv3d's own path
    padded = PatchConv3d(3, 4, 3, stride=3, padding=1)
    reference = torch.nn.Conv3d(3, 4, 3, stride=3, padding=1)
    reference.load_state_dict(padded.state_dict())
    assert not padded._is_patch()
    torch.testing.assert_close(padded(x), reference(x))


def _assert_close_fp32(actual, expected):
    """Equal up to fp32 rounding of long reductions.

    The fused and the layer-by-layer paths sum the same products in another order
    (over up to 12,800 terms in the second layer), and the BLAS kernels pick their
    blocking by CPU (AVX2, AVX-512, AMX), so the last bits differ. A relative
    tolerance of 1e-4, with an absolute one scaled to the tensor's largest magnitude
    for the entries near zero, passes on those CPUs and still fails on a wrong index
    or weight (errors of order 1).
    """
    scale = float(expected.detach().abs().max()) or 1.0
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize("grid_size", [20, 47, 60])
def test_ecd3dcnn_fused_patches_equal_layer_by_layer(grid_size):
    """The gathered two-layer path gives the outputs and gradients of the Sequential.

    Grid 20 has fewer second-layer patches than channels (the activations are
    reordered), 47 and 60 more (the weight is).
    """
    torch.manual_seed(0)
    net = ECD3DCNN(grid_size=grid_size, n_outputs=2, conv1_channels=6, conv2_channels=8)
    x = torch.rand(3, 1, grid_size, grid_size, grid_size)
    no_layers = mock.patch.object(PatchConv3d, "forward", side_effect=AssertionError("layer path"))
    with no_layers:
        fused = net(x)  # the fused path does not call the layers one by one
    fused.sum().backward()
    g_fused = _grads(net)
    net.zero_grad()
    layered = net.out(net.dense(net.features(x)))
    layered.sum().backward()
    _assert_close_fp32(fused, layered)
    for a, b in zip(g_fused, _grads(net), strict=True):
        _assert_close_fp32(a, b)


def test_linear_relu_is_relu_of_addmm():
    """The second layer's ``relu(x @ W.T + b)``: outputs and gradients, with and without bias."""
    torch.manual_seed(0)
    x = torch.randn(32, 640, requires_grad=True)
    weight = torch.randn(48, 640, requires_grad=True)
    bias = torch.randn(48, requires_grad=True)
    out = _modules._linear_relu(x, weight, bias)
    assert (out == 0).any() and (out > 0).any()  # both sides of the ReLU are exercised
    plain = torch.relu(x @ weight.t() + bias)
    _assert_close_fp32(out, plain)
    upstream = torch.randn(32, 48)
    grads = torch.autograd.grad(out, (x, weight, bias), upstream)
    for a, b in zip(grads, torch.autograd.grad(plain, (x, weight, bias), upstream), strict=True):
        _assert_close_fp32(a, b)
    _assert_close_fp32(_modules._linear_relu(x, weight, None), torch.relu(x @ weight.t()))


def test_no_private_torch_operators():
    """skecd's networks use torch's public API only (no ``torch.ops.mkldnn`` and the like)."""
    package = Path(_modules.__file__).resolve().parents[1]
    offenders = [
        f"{path.relative_to(package.parent)}:{number}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "torch.ops." in line or "torch._C" in line
    ]
    assert offenders == []


def test_seprojectedcnn_channels_last_views_change_no_result():
    """The views go through the convolutions channels-last: same outputs and gradients."""
    torch.manual_seed(0)
    net = SEProjectedCNN(grid_size=30, n_outputs=2, dense_widths=(8,))
    x = torch.rand(2, 3, 30, 30, 30)
    fast = net(x)
    fast.square().sum().backward()
    g_fast = _grads(net)
    net.zero_grad()
    views = [cnn(se(x[:, k])) for k, (se, cnn) in enumerate(zip(net.se, net.cnn))]
    plain = net.out(net.dense(torch.cat(views, dim=1)))
    plain.square().sum().backward()
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-6)
    for a, b in zip(g_fast, _grads(net), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_ecd3dcnn_paper_defaults():
    net = ECD3DCNN()
    assert net.features[0].out_channels == 200
    assert net.features[0].kernel_size == (5, 5, 5) and net.features[0].stride == (5, 5, 5)
    assert net.features[2].kernel_size == (4, 4, 4) and net.features[2].stride == (4, 4, 4)
    n_dense = sum(isinstance(m, torch.nn.Linear) for m in net.dense)
    assert n_dense == 7


def test_ecd3dcnn_too_small_grid():
    with pytest.raises(ValueError, match="D=12 is too small"):
        ECD3DCNN(grid_size=12)
    # smaller kernels make small grids possible
    net = ECD3DCNN(grid_size=12, conv1_kernel=3, conv2_kernel=2, dense_widths=(4,))
    assert net(torch.rand(1, 1, 12, 12, 12)).shape == (1, 1)


def test_seprojectedcnn_paper_sizes():
    net = SEProjectedCNN(grid_size=60)
    assert net.dense[0].in_features == 384  # 3 views x 128 maps x 1 x 1 at D=60
    widths = [m.out_features for m in net.dense if isinstance(m, torch.nn.Linear)]
    assert widths == [4096, 4096, 128, 128, 128, 32]
    assert net.se[0].conv.in_channels == 60 and net.se[0].conv.out_channels == 24


def test_seprojectedcnn_forward_and_views_distinct():
    net = SEProjectedCNN(grid_size=30, n_outputs=2, dense_widths=(8, 4))
    x = torch.rand(3, 3, 30, 30, 30)
    assert net(x).shape == (3, 2)
    assert net.forward_features(x).shape == (3, 4)
    # each view has its own blocks
    assert net.se[0].conv.weight.data_ptr() != net.se[1].conv.weight.data_ptr()
    with pytest.raises(ValueError, match="too small"):
        SEProjectedCNN(grid_size=24)


@pytest.mark.parametrize("n_features", [132, 144, 5])
def test_magpiecnn_pads_to_image(n_features):
    net = MagpieCNN(n_features=n_features)
    x = torch.rand(4, n_features)
    assert net(x).shape == (4, 1)
    assert net.forward_features(x).shape == (4, 32)
    # the 12 padding zeros of a 132-vector do not change the output
    if n_features == 132:
        padded = torch.nn.functional.pad(x, (0, 12))
        torch.testing.assert_close(net(x), MagpieCNN.forward(net, padded))


def test_magpiecnn_too_many_features():
    with pytest.raises(ValueError, match="145 features do not fit a 12x12"):
        MagpieCNN(n_features=145)

"""The plain torch modules: shapes, sizes following the input, clear errors."""

from __future__ import annotations

import contextlib
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


@pytest.mark.parametrize("onednn", [True, False], ids=["onednn", "addmm"])
@pytest.mark.parametrize("grid_size", [20, 47, 60])
def test_ecd3dcnn_fused_patches_equal_layer_by_layer(grid_size, onednn):
    """The gathered two-layer path gives the outputs and gradients of the Sequential.

    Grid 20 has fewer second-layer patches than channels (the activations are
    reordered), 47 and 60 more (the weight is); the second layer runs on oneDNN
    where torch has it, else on ``addmm``.
    """
    if onednn and _modules._onednn_linear() is None:
        pytest.skip("this torch build has no oneDNN linear operator")
    torch.manual_seed(0)
    net = ECD3DCNN(grid_size=grid_size, n_outputs=2, conv1_channels=6, conv2_channels=8)
    x = torch.rand(3, 1, grid_size, grid_size, grid_size)
    no_layers = mock.patch.object(PatchConv3d, "forward", side_effect=AssertionError("layer path"))
    # the oneDNN path must be taken when asked for, and never when not
    spy = mock.patch.object(
        _modules._OneDNNLinearReLU,
        "apply",
        wraps=_modules._OneDNNLinearReLU.apply
        if onednn
        else mock.Mock(side_effect=AssertionError("oneDNN path")),
    )
    unavailable = mock.patch.object(_modules, "_onednn_linear", return_value=None)
    with no_layers, spy as apply, unavailable if not onednn else contextlib.nullcontext():
        fused = net(x)  # the fused path does not call the layers one by one
    assert apply.called == onednn
    fused.sum().backward()
    g_fused = _grads(net)
    net.zero_grad()
    layered = net.out(net.dense(net.features(x)))
    layered.sum().backward()
    torch.testing.assert_close(fused, layered, rtol=1e-5, atol=1e-6)
    for a, b in zip(g_fused, _grads(net), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_onednn_linear_relu_equals_addmm_relu():
    """The oneDNN second layer: ``relu(addmm)``'s outputs and all three gradients."""
    if _modules._onednn_linear() is None:
        pytest.skip("this torch build has no oneDNN linear operator")
    torch.manual_seed(0)
    x = torch.randn(32, 640, requires_grad=True)
    weight = torch.randn(48, 640, requires_grad=True)
    bias = torch.randn(48, requires_grad=True)
    upstream = torch.randn(32, 48)
    fast = _modules._OneDNNLinearReLU.apply(x, weight, bias)
    assert (fast == 0).any() and (fast > 0).any()  # both sides of the ReLU are exercised
    grads = torch.autograd.grad(fast, (x, weight, bias), upstream)
    plain = torch.relu(torch.addmm(bias, x, weight.t()))
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-5)
    for a, b in zip(grads, torch.autograd.grad(plain, (x, weight, bias), upstream), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    # an input without gradient (the first layer's, in the network) still gives the weight's
    frozen = _modules._OneDNNLinearReLU.apply(x.detach(), weight, bias)
    (grad_weight,) = torch.autograd.grad(frozen, weight, upstream)
    torch.testing.assert_close(grad_weight, grads[1])
    # the dispatcher keeps float64, autocast and bias-free calls on torch's own path
    with mock.patch.object(_modules._OneDNNLinearReLU, "apply", side_effect=AssertionError):
        torch.testing.assert_close(
            _modules._linear_relu(x.double(), weight.double(), bias.double()),
            plain.double(),
            rtol=1e-4,
            atol=1e-4,
        )
        torch.testing.assert_close(
            _modules._linear_relu(x, weight, None), torch.relu(x @ weight.t())
        )
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert _modules._linear_relu(x, weight, bias).dtype == torch.bfloat16


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


def test_onednn_linear_only_where_measured_and_enabled():
    """oneDNN is used on x86-64 with torch's oneDNN enabled; elsewhere torch's addmm."""
    with mock.patch.object(_modules, "_X86_64", False):
        assert _modules._onednn_linear() is None
    was_enabled = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        assert _modules._onednn_linear() is None
        net = ECD3DCNN(grid_size=20, conv1_channels=3, conv2_channels=5, dense_widths=(4,))
        with mock.patch.object(_modules._OneDNNLinearReLU, "apply", side_effect=AssertionError):
            assert net(torch.rand(2, 1, 20, 20, 20)).shape == (2, 1)
    finally:
        torch.backends.mkldnn.enabled = was_enabled

"""CGCNN (Xie & Grossman 2018): a crystal-graph network, in plain torch, and its regressor."""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import default_collate

from ._base import SkecdNetRegressor

__all__ = ["CGCNNModule", "CGCNNRegressor", "GraphBatch", "collate_graphs"]


# --------------------------------------------------------------------------------------
# The torch module
# --------------------------------------------------------------------------------------
class _BatchNorm(nn.BatchNorm1d):
    """``BatchNorm1d`` that normalises a single row with its running statistics.

    Training batch norm is undefined on one row (a batch of one single-atom crystal,
    e.g. the primitive cell of an fcc metal, has one atom); such a batch is then
    normalised as in evaluation mode, and the running statistics are not updated.
    """

    def forward(self, x):
        if self.training and x.shape[0] == 1:
            return F.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
            )
        return super().forward(x)


class CGConv(nn.Module):
    """The gated graph convolution of CGCNN (Xie & Grossman 2018, eq. 5).

    For each edge ``(i, j)`` with features ``u_ij``, ``z_ij = [v_i, v_j, u_ij]``, and

    ``v_i <- softplus(v_i + BN(sum_j sigmoid(z_ij W_f + b_f) * softplus(z_ij W_s + b_s)))``

    where ``z W_f`` and ``z W_s`` are computed by one linear layer followed by batch
    norm over the edges, as in the original code.

    Parameters
    ----------
    atom_fea_len : int
        Size of the atom (node) features.
    nbr_fea_len : int
        Size of the edge features.
    """

    def __init__(self, atom_fea_len, nbr_fea_len):
        super().__init__()
        self.atom_fea_len = atom_fea_len
        self.fc_full = nn.Linear(2 * atom_fea_len + nbr_fea_len, 2 * atom_fea_len)
        self.bn1 = _BatchNorm(2 * atom_fea_len)
        self.bn2 = _BatchNorm(atom_fea_len)

    def forward(self, atom_fea, edge_index, edge_fea):
        """Update the atom features.

        Parameters
        ----------
        atom_fea : Tensor of shape (n_atoms, atom_fea_len)
        edge_index : LongTensor of shape (2, n_edges)
            Centre and neighbour atom of each edge.
        edge_fea : Tensor of shape (n_edges, nbr_fea_len)

        Returns
        -------
        Tensor of shape (n_atoms, atom_fea_len)
        """
        center, neighbor = edge_index[0], edge_index[1]
        z = torch.cat([atom_fea[center], atom_fea[neighbor], edge_fea], dim=1)
        gated = self.bn1(self.fc_full(z))
        nbr_filter, nbr_core = gated.chunk(2, dim=1)
        messages = torch.sigmoid(nbr_filter) * F.softplus(nbr_core)
        # Sum of the messages onto each centre atom (no graph library needed).
        summed = torch.zeros_like(atom_fea).index_add_(0, center, messages)
        return F.softplus(atom_fea + self.bn2(summed))


class CGCNNModule(nn.Module):
    """The crystal graph convolutional neural network of Xie & Grossman (2018).

    Atom features are embedded linearly to ``atom_fea_len``, updated by ``n_conv``
    gated graph convolutions (:class:`CGConv`), averaged over the atoms of each
    crystal, then passed through a dense layer of ``h_fea_len`` units,
    ``n_h - 1`` further hidden layers (softplus activations) and a linear output
    layer with one unit per target. Written in plain torch: message passing is a
    gather over the edge list and an ``index_add_`` back onto the atoms.

    Parameters
    ----------
    n_atom_features : int, default=91
        Size of the input atom features (91 for
        :class:`~skecd.preprocessing.CrystalGraphFeaturizer`).
    n_edge_features : int, default=41
        Size of the edge features (the number of Gaussians: 41 for a cutoff of 8
        Angstrom and a step of 0.2).
    n_outputs : int, default=1
        Number of targets.
    atom_fea_len : int, default=64
        Size of the atom features in the convolutional layers.
    n_conv : int, default=3
        Number of convolutional layers.
    h_fea_len : int, default=128
        Size of the hidden dense layers after pooling.
    n_h : int, default=1
        Number of hidden dense layers after pooling (the original's ``n_h``).

    Notes
    -----
    The input of ``forward`` is a :class:`GraphBatch` made by :func:`collate_graphs`:
    the crystals of the batch as one disjoint graph, edge indices offset into the
    concatenated atoms and ``crystal_index`` giving the crystal of each atom.
    """

    def __init__(
        self,
        n_atom_features=91,
        n_edge_features=41,
        n_outputs=1,
        atom_fea_len=64,
        n_conv=3,
        h_fea_len=128,
        n_h=1,
    ):
        super().__init__()
        for name, value, low in [
            ("n_atom_features", n_atom_features, 1),
            ("n_edge_features", n_edge_features, 1),
            ("n_outputs", n_outputs, 1),
            ("atom_fea_len", atom_fea_len, 1),
            ("n_conv", n_conv, 0),
            ("h_fea_len", h_fea_len, 1),
            ("n_h", n_h, 1),
        ]:
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
                raise ValueError(f"CGCNNModule: {name} must be an int >= {low}, got {value!r}")
        self.embedding = nn.Linear(n_atom_features, atom_fea_len)
        self.convs = nn.ModuleList([CGConv(atom_fea_len, n_edge_features) for _ in range(n_conv)])
        self.conv_to_fc = nn.Linear(atom_fea_len, h_fea_len)
        self.fcs = nn.ModuleList([nn.Linear(h_fea_len, h_fea_len) for _ in range(n_h - 1)])
        self.fc_out = nn.Linear(h_fea_len, n_outputs)

    def forward_features(self, batch):
        """Return the penultimate features (the last hidden layer) of each crystal.

        Parameters
        ----------
        batch : GraphBatch
            Crystal graphs batched by :func:`collate_graphs`.

        Returns
        -------
        Tensor of shape (n_crystals, h_fea_len)
        """
        atom_fea = self.embedding(batch.atom_features)
        for conv in self.convs:
            atom_fea = conv(atom_fea, batch.edge_index, batch.edge_features)
        # Mean pooling over the atoms of each crystal.
        counts = batch.atoms_per_crystal
        pooled = atom_fea.new_zeros(counts.shape[0], atom_fea.shape[1]).index_add_(
            0, batch.crystal_index, atom_fea
        )
        pooled = pooled / counts.to(pooled.dtype).unsqueeze(1)
        # As in the original: softplus, dense, softplus, then n_h - 1 hidden layers.
        crys_fea = F.softplus(self.conv_to_fc(F.softplus(pooled)))
        for fc in self.fcs:
            crys_fea = F.softplus(fc(crys_fea))
        return crys_fea

    def forward(self, batch):
        """Predict the (standardised) targets of each crystal of the batch.

        Parameters
        ----------
        batch : GraphBatch
            Crystal graphs batched by :func:`collate_graphs`.

        Returns
        -------
        Tensor of shape (n_crystals, n_outputs)
        """
        return self.fc_out(self.forward_features(batch))


# --------------------------------------------------------------------------------------
# Batching
# --------------------------------------------------------------------------------------
class GraphBatch:
    """A batch of crystal graphs, as one disjoint graph (the input of :class:`CGCNNModule`).

    Parameters
    ----------
    atom_features : Tensor of shape (n_atoms, n_atom_features)
        Atom features of all crystals, concatenated.
    edge_index : LongTensor of shape (2, n_edges)
        Centre and neighbour of each edge, as indices into the concatenated atoms.
    edge_features : Tensor of shape (n_edges, n_edge_features)
    crystal_index : LongTensor of shape (n_atoms,)
        The crystal of each atom.
    atoms_per_crystal : LongTensor of shape (n_crystals,)

    Notes
    -----
    ``len()`` is the number of crystals, which is what skorch counts as the batch
    size; ``to(device)`` moves every tensor.
    """

    __slots__ = (
        "atom_features",
        "edge_index",
        "edge_features",
        "crystal_index",
        "atoms_per_crystal",
    )

    def __init__(self, atom_features, edge_index, edge_features, crystal_index, atoms_per_crystal):
        self.atom_features = atom_features
        self.edge_index = edge_index
        self.edge_features = edge_features
        self.crystal_index = crystal_index
        self.atoms_per_crystal = atoms_per_crystal

    def __len__(self):
        return self.atoms_per_crystal.shape[0]

    def to(self, device):
        """Return the batch with every tensor on ``device``."""
        return GraphBatch(*(getattr(self, name).to(device) for name in self.__slots__))


def collate_graphs(samples):
    """Batch ``(CrystalGraph, y)`` pairs into a :class:`GraphBatch` and a target tensor.

    Atoms of all graphs are concatenated, edge indices are offset by the number of
    atoms before each graph, and each atom gets the index of its crystal.

    Parameters
    ----------
    samples : list of (CrystalGraph, y) tuples
        As yielded by skorch's ``Dataset`` over a 1D object array of graphs.

    Returns
    -------
    batch : GraphBatch
    y : Tensor
        The targets, stacked.
    """
    graphs = [g for g, _ in samples]
    counts = np.array([g.n_atoms for g in graphs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    atom_features = np.concatenate([g.atom_features for g in graphs]).astype(np.float32)
    edge_index = np.concatenate([g.edge_index + off for g, off in zip(graphs, offsets)], axis=1)
    edge_features = np.concatenate([g.edge_features for g in graphs]).astype(np.float32)
    crystal_index = np.repeat(np.arange(len(graphs), dtype=np.int64), counts)
    batch = GraphBatch(
        torch.from_numpy(atom_features),
        torch.from_numpy(edge_index.astype(np.int64)),
        torch.from_numpy(edge_features),
        torch.from_numpy(crystal_index),
        torch.from_numpy(counts),
    )
    return batch, default_collate([y for _, y in samples])


# --------------------------------------------------------------------------------------
# The regressor
# --------------------------------------------------------------------------------------
class CGCNNRegressor(SkecdNetRegressor):
    """CGCNN regressor (Xie & Grossman 2018) on crystal graphs, the structure baseline.

    A skorch regressor around :class:`CGCNNModule`. ``X`` is the output of
    :class:`~skecd.preprocessing.CrystalGraphFeaturizer` (a 1D array of
    :class:`~skecd.preprocessing.CrystalGraph`), so that
    ``make_pipeline(CrystalGraphFeaturizer(), CGCNNRegressor())`` takes the same
    samples (structures, densities or files) as skecd's other models and works in
    ``cross_validate`` and ``GridSearchCV``. Graphs are batched by
    :func:`collate_graphs` (concatenated atoms, offset edge indices, the crystal of
    each atom).

    Parameters
    ----------
    module : type of torch.nn.Module, default=CGCNNModule
        The network; its widths are set with ``module__atom_fea_len`` (64),
        ``module__n_conv`` (3), ``module__h_fea_len`` (128) and ``module__n_h`` (1).
        ``module__n_atom_features``, ``module__n_edge_features`` and
        ``module__n_outputs`` are set from the data in ``fit``.
    criterion : type of torch.nn.Module, default=torch.nn.MSELoss
        The original CGCNN trains regressions with the mean squared error; pass
        ``torch.nn.L1Loss`` to train with the L1 loss of the ECD models.
    optimizer : type of torch.optim.Optimizer, default=torch.optim.Adam
        The original offers SGD (momentum 0.9, its default) and Adam, both at a
        learning rate of 0.01; Adam is used here as it needs no momentum tuning.
    lr : float, default=0.01
        Learning rate (the original's default).
    max_epochs : int, default=100
        Number of training epochs (the original's default is 30 epochs with
        batches of 256; on a few hundred materials that is a few dozen steps, so
        more, smaller batches are used).
    batch_size : int, default=64
        Number of crystals per mini-batch.
    standardize_y : bool, default=True
        Train on standardised targets (the original normalises targets too).
    log_target : bool, default=True
        Learn ``log10`` of the targets, so that every prediction is positive (see
        ``SkecdNetRegressor``); ``False`` learns the raw targets, as the original.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation and batch shuffling (see ``SkecdNetRegressor``).
    device : str, default="cpu"
        Torch device.
    **kwargs
        Any other argument of :class:`~skecd.models._base.SkecdNetRegressor` or of
        skorch's ``NeuralNet`` (``train_split``, ``callbacks``, ``verbose``,
        ``optimizer__weight_decay``, ...).

    Attributes
    ----------
    module_ : CGCNNModule
        The trained network.
    n_atom_features_ : int
        Size of the atom features of the graphs seen in ``fit``.
    n_edge_features_ : int
        Size of the edge features of the graphs seen in ``fit``.
    n_outputs_ : int
        Number of targets.
    history_ : skorch.History
        Training records.

    See Also
    --------
    skecd.preprocessing.CrystalGraphFeaturizer : Makes the graphs.

    Notes
    -----
    Batch norm as in the original, except that a batch norm layer seeing a single
    row in training (a batch holding one single-atom crystal) normalises it with
    its running statistics instead of failing.

    References
    ----------
    T. Xie and J. C. Grossman, "Crystal graph convolutional neural networks for an
    accurate and interpretable prediction of material properties", Phys. Rev. Lett.
    120, 145301 (2018).

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> from sklearn.pipeline import make_pipeline
    >>> from skecd.models import CGCNNRegressor
    >>> from skecd.preprocessing import CrystalGraphFeaturizer
    >>> X = [Structure(Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    ...      for a in (2.8, 2.9, 3.0, 3.1)]
    >>> y = [60.0, 40.0, 25.0, 15.0]  # GPa
    >>> model = make_pipeline(
    ...     CrystalGraphFeaturizer(cutoff=5.0),
    ...     CGCNNRegressor(max_epochs=20, module__atom_fea_len=8, random_state=0),
    ... ).fit(X, y)
    >>> model.predict(X).shape
    (4,)
    """

    _input_size_param = "n_atom_features"

    def __init__(
        self,
        module=CGCNNModule,
        *,
        criterion=torch.nn.MSELoss,
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=100,
        batch_size=64,
        **kwargs,
    ):
        kwargs.setdefault("iterator_train__collate_fn", collate_graphs)
        kwargs.setdefault("iterator_valid__collate_fn", collate_graphs)
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            **kwargs,
        )

    # The base validates 2D/5D numeric arrays; graphs need their own check.
    def _check_X(self, X, reset):
        X = _check_graphs(X, type(self).__name__)
        n_atom, n_edge = X[0].atom_features.shape[1], X[0].edge_features.shape[1]
        if reset:
            self.n_atom_features_, self.n_edge_features_ = n_atom, n_edge
        elif (n_atom, n_edge) != (self.n_atom_features_, self.n_edge_features_):
            raise ValueError(
                f"X: graphs with {n_atom} atom and {n_edge} edge features, but "
                f"{type(self).__name__} was fitted on {self.n_atom_features_} and "
                f"{self.n_edge_features_} (same CrystalGraphFeaturizer settings needed)"
            )
        return X

    def infer(self, x, **fit_params):
        """Run the module on one :class:`GraphBatch` (moved to ``device``).

        skorch's ``infer`` converts inputs with ``to_tensor``, which knows tensors,
        arrays and containers of them but not a graph batch.
        """
        return self.module_(x.to(self.device), **fit_params)

    def _input_size_from_shape(self, shape):
        return self.n_atom_features_

    def get_params_for(self, prefix):
        # The module's second input size (edge features) also comes from the data.
        params = super().get_params_for(prefix)
        if prefix == "module" and hasattr(self, "n_edge_features_"):
            params["n_edge_features"] = self.n_edge_features_
        return params

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True  # a 1D object array of graphs
        return tags


def _check_graphs(X, name):
    """Return ``X`` as a 1D object array of consistent graphs, or say what is wrong."""
    from ..preprocessing._graph import CrystalGraph

    if isinstance(X, CrystalGraph):
        raise TypeError(f"X: {name} takes a list of graphs, got a single graph; wrap it in a list")
    if isinstance(X, np.ndarray) and X.ndim != 1:
        raise ValueError(
            f"X: {name} takes a 1D sequence of crystal graphs (the output of "
            f"CrystalGraphFeaturizer), got an array of shape {X.shape}; use "
            f"make_pipeline(CrystalGraphFeaturizer(), {name}())"
        )
    try:
        graphs = list(X)
    except TypeError:
        raise TypeError(f"X: {name} takes a sequence of crystal graphs, got {type(X).__name__}")
    if not graphs:
        raise ValueError(f"X: {name} needs at least one graph, got an empty X")
    n_atom = n_edge = None
    for i, g in enumerate(graphs):
        if not isinstance(g, CrystalGraph):
            raise TypeError(
                f"X: sample {i} is a {type(g).__name__}, not a CrystalGraph; {name} takes "
                f"the output of CrystalGraphFeaturizer: use "
                f"make_pipeline(CrystalGraphFeaturizer(), {name}())"
            )
        dims = (g.atom_features.shape[1], g.edge_features.shape[1])
        if n_atom is None:
            n_atom, n_edge = dims
        elif dims != (n_atom, n_edge):
            raise ValueError(
                f"X: sample {i} has {dims[0]} atom and {dims[1]} edge features, sample 0 has "
                f"{n_atom} and {n_edge}: all graphs must come from the same featurizer settings"
            )
    out = np.empty(len(graphs), dtype=object)
    out[:] = graphs
    return out

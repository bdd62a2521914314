"""The one table of how skecd's estimators meet scikit-learn's common checks.

``INIT_PARAMS`` gives the constructor arguments used in the common tests (tiny
networks, one or two epochs, seeded) and ``EXPECTED_FAILED_CHECKS`` lists, per
estimator, each scikit-learn check that cannot apply to it, with the reason and
the test of ours that checks the same property on real input instead.

Why checks fail here: scikit-learn's checks feed small 2D numeric tables, while
several skecd estimators take other input by design: charge densities or file
paths (the voxeliser and the descriptor), chemical formulas (the Magpie
featuriser) or 5D grids (the 3D and projected CNNs). A check is listed only
when it cannot be made to apply; ``tests/test_common.py`` verifies that every
named replacement test exists.
"""

from __future__ import annotations

# ChargeDensityDescriptor: one reason for all its listed checks, tests in one file.
_DESC_REASON = (
    "takes charge densities or file paths, not numeric tables: "
    "a 2D float array is rejected"
)
_DESC_TESTS = "tests/preprocessing/test_descriptors.py::"

_PROJ_REASON = (
    "takes single-channel density cubes of shape (n_samples, 1, D, D, D), not numeric tables: "
    "a 2D float array is rejected"
)
_PROJ_TESTS = "tests/preprocessing/test_projector.py::"
_VOX_REASON = (
    "takes a list of charge densities or file paths (CHGCAR, npz), not numeric tables: "
    "a 2D float array is rejected"
)
_VOX_TESTS = "tests/preprocessing/test_voxelizer.py::"

# MagpieFeaturizer: every failing check feeds numbers; samples are formulas/structures.
_MAGPIE_REASON = (
    "takes one column of chemical formulas, compositions, structures, densities or file "
    "paths, not numeric tables: an array of numbers is rejected"
)
_MAGPIE_TESTS = "tests/preprocessing/test_magpie.py::"

_GRAPH_REASON = (
    "takes crystal structures, ChargeDensity objects or file paths and returns crystal graphs, "
    "not numeric tables: a 2D float array is rejected"
)
_GRAPH_TESTS = "tests/preprocessing/test_graph.py::"
_CGCNN_REASON = (
    "takes a 1D array of crystal graphs (the output of CrystalGraphFeaturizer), not numeric "
    "tables: a 2D float array is rejected"
)
_CGCNN_TESTS = "tests/models/test_cgcnn.py::"

def _same_reason(reason, test_file, checks):
    """Entries ``{check: (reason, "test_file::test")}`` for checks sharing one reason."""
    if test_file.endswith("::"):
        test_file = test_file[:-2]
    return {check: (reason, f"{test_file}::{test}") for check, test in checks.items()}


# The checks that feed 2D tables to a network taking 5D grids, and our replacement tests in
# tests/models/test_regressors.py (shared by ECD3DCNNRegressor and SEProjectedCNNRegressor).
_GRID_NET_CHECKS = {
        "check_dict_unchanged": "test_reproducible_to_the_bit",
        "check_dont_overwrite_parameters": "test_reproducible_to_the_bit",
        "check_dtype_object": "test_errors",
        "check_estimators_dtypes": "test_errors",
        "check_estimators_fit_returns_self": "test_reproducible_to_the_bit",
        "check_estimators_nan_inf": "test_errors",
        "check_estimators_overwrite_params": "test_reproducible_to_the_bit",
        "check_estimators_partial_fit_n_features": "test_trains_and_predicts_shape",
        "check_estimators_pickle": "test_clone_pickle_and_save_load_params",
        "check_f_contiguous_array_estimator": "test_trains_and_predicts_shape",
        "check_fit2d_1feature": "test_errors",
        "check_fit2d_1sample": "test_errors",
        "check_fit2d_predict1d": "test_errors",
        "check_fit_check_is_fitted": "test_errors",
        "check_fit_idempotent": "test_reproducible_to_the_bit",
        "check_fit_score_takes_y": "test_trains_and_predicts_shape",
        "check_methods_sample_order_invariance": "test_reproducible_to_the_bit",
        "check_methods_subset_invariance": "test_reproducible_to_the_bit",
        "check_n_features_in": "test_errors",
        "check_n_features_in_after_fitting": "test_errors",
        "check_pipeline_consistency": "test_trains_and_predicts_shape",
        "check_positive_only_tag_during_fit": "test_errors",
        "check_readonly_memmap_input": "test_trains_and_predicts_shape",
        "check_regressor_data_not_an_array": "test_trains_and_predicts_shape",
        "check_regressor_multioutput": "test_trains_and_predicts_shape",
        "check_regressors_int": "test_trains_and_predicts_shape",
        "check_regressors_no_decision_function": "test_trains_and_predicts_shape",
        "check_regressors_train": "test_trains_and_predicts_shape",
        "check_supervised_y_2d": "test_trains_and_predicts_shape",
}

# What skorch itself does, shared by the grid networks.
_SKORCH_GRID_NET_ENTRIES = {
    **_same_reason(
        (
            "skorch's set_params initialises callbacks/optimizer eagerly and fails on"
            " the nonsense values this check sets"
        ),
        "tests/models/test_regressors.py",
        {
            "check_do_not_raise_errors_in_init_or_set_params": "test_set_params_module_width_takes_effect",
            "check_set_params": "test_set_params_module_width_takes_effect",
        },
    ),
    **_same_reason(
        (
            "skorch's NeuralNet.__init__ sets history_, initialized_, virtual_params_"
            " and stores module__* keyword parameters as attributes"
        ),
        "tests/models/test_regressors.py",
        {"check_no_attributes_set_in_init": "test_clone_pickle_and_save_load_params"},
    ),
}


# Each value: {check_name: (reason, "tests/path.py::test_name")}.
# Entries are grouped by estimator; keep them in alphabetical order.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, tuple[str, str]]] = {
    "AxisProjector": {
        **_same_reason(
            _PROJ_REASON,
            _PROJ_TESTS,
            {
                "check_complex_data": "test_projector_rejects_bad_input",
                "check_dict_unchanged": "test_projector_is_stateless",
                "check_dtype_object": "test_projector_rejects_bad_input",
                "check_estimators_dtypes": "test_projector_preserves_float_dtype",
                "check_estimators_empty_data_messages": "test_projector_rejects_bad_input",
                "check_estimators_nan_inf": "test_projector_rejects_nan_naming_samples",
                "check_estimators_pickle": "test_projector_clone_and_pickle",
                "check_estimators_pickle(readonly_memmap=True)": "test_projector_clone_and_pickle",
                "check_f_contiguous_array_estimator": "test_projector_layout_independent_of_memory_order",
                "check_fit2d_predict1d": "test_projector_rejects_bad_input",
                "check_fit_idempotent": "test_projector_is_stateless",
                "check_fit_score_takes_y": "test_projector_fit_returns_self_and_ignores_y",
                "check_methods_sample_order_invariance": "test_projector_sample_order_and_subset_invariance",
                "check_methods_subset_invariance": "test_projector_sample_order_and_subset_invariance",
                "check_pipeline_consistency": "test_projector_is_stateless",
                "check_transformer_data_not_an_array": "test_projector_layout_independent_of_memory_order",
                "check_transformer_general": "test_views_follow_the_documented_layout",
                "check_transformer_general(readonly_memmap=True)": "test_projector_layout_independent_of_memory_order",
                "check_transformer_preserve_dtypes": "test_projector_preserves_float_dtype",
                "check_transformers_unfitted_stateless": "test_projector_is_stateless",
            },
        ),
        **_same_reason(
            (
                "takes single-channel density cubes of shape (n_samples, 1, D, D, D), not"
                " numeric tables: a 2D float array is rejected; the output shape follows "
                "D, so there is no n_features_in_"
            ),
            _PROJ_TESTS,
            {
                "check_n_features_in": "test_views_follow_the_documented_layout",
                "check_n_features_in_after_fitting": "test_views_follow_the_documented_layout",
            },
        ),
        **_same_reason(
            (
                "takes single-channel density cubes of shape (n_samples, 1, D, D, D), not"
                " numeric tables: a 2D float array is rejected; so is a sparse matrix"
            ),
            _PROJ_TESTS,
            {
                "check_estimator_sparse_tag": "test_projector_rejects_bad_input",
            },
        ),
        **_same_reason(
            (
                "stateless: fit ignores X (as FunctionTransformer does), so a 1D array "
                "does not raise in fit; transform rejects it"
            ),
            _PROJ_TESTS,
            {
                "check_fit1d": "test_projector_rejects_bad_input",
            },
        ),
    },
    "CGCNNRegressor": {
        **_same_reason(
            _CGCNN_REASON,
            _CGCNN_TESTS,
            {
                "check_complex_data": "test_clear_errors",
                "check_dict_unchanged": "test_reproducible_with_random_state_and_pickles",
                "check_dont_overwrite_parameters": "test_reproducible_with_random_state_and_pickles",
                "check_dtype_object": "test_clear_errors",
                "check_estimator_sparse_array": "test_clear_errors",
                "check_estimator_sparse_matrix": "test_clear_errors",
                "check_estimator_sparse_tag": "test_clear_errors",
                "check_estimators_dtypes": "test_regressor_trains_on_real_data",
                "check_estimators_empty_data_messages": "test_clear_errors",
                "check_estimators_fit_returns_self": "test_regressor_trains_on_real_data",
                "check_estimators_nan_inf": "test_clear_errors",
                "check_estimators_overwrite_params": "test_reproducible_with_random_state_and_pickles",
                "check_estimators_partial_fit_n_features": "test_clear_errors",
                "check_estimators_pickle": "test_reproducible_with_random_state_and_pickles",
                "check_estimators_pickle(readonly_memmap=True)": "test_reproducible_with_random_state_and_pickles",
                "check_f_contiguous_array_estimator": "test_module_is_invariant_to_atom_order_and_batching",
                "check_fit1d": "test_clear_errors",
                "check_fit2d_1feature": "test_clear_errors",
                "check_fit2d_1sample": "test_single_atom_crystal_in_training_batch",
                "check_fit2d_predict1d": "test_clear_errors",
                "check_fit_check_is_fitted": "test_clear_errors",
                "check_fit_idempotent": "test_reproducible_with_random_state_and_pickles",
                "check_fit_score_takes_y": "test_pipeline_cross_validate_leave_one_element_out",
                "check_methods_sample_order_invariance": "test_module_is_invariant_to_atom_order_and_batching",
                "check_methods_subset_invariance": "test_module_is_invariant_to_atom_order_and_batching",
                "check_n_features_in": "test_regressor_trains_on_real_data",
                "check_n_features_in_after_fitting": "test_regressor_trains_on_real_data",
                "check_pipeline_consistency": "test_reproducible_with_random_state_and_pickles",
                "check_positive_only_tag_during_fit": "test_clear_errors",
                "check_readonly_memmap_input": "test_regressor_trains_on_real_data",
                "check_regressor_data_not_an_array": "test_pipeline_cross_validate_leave_one_element_out",
                "check_regressor_multioutput": "test_regressor_trains_on_real_data",
                "check_regressors_int": "test_single_target_and_single_atom_batches",
                "check_regressors_no_decision_function": "test_regressor_trains_on_real_data",
                "check_regressors_train": "test_regressor_trains_on_real_data",
                "check_regressors_train(readonly_memmap=True)": "test_regressor_trains_on_real_data",
                "check_regressors_train(readonly_memmap=True,X_dtype=float32)": "test_regressor_trains_on_real_data",
                "check_supervised_y_2d": "test_regressor_trains_on_real_data",
            },
        ),
        **_same_reason(
            (
                "skorch's NeuralNet.__init__ sets history_, initialized_ and its virtual-"
                "parameter bookkeeping; nothing learnt is set before fit"
            ),
            _CGCNN_TESTS,
            {
                "check_no_attributes_set_in_init": "test_reproducible_with_random_state_and_pickles",
            },
        ),
        **_same_reason(
            (
                "skorch's set_params routes the check's arbitrary float values into the "
                "callback and optimiser set-up, which then fail; real parameters work"
            ),
            _CGCNN_TESTS,
            {
                "check_set_params": "test_grid_search_over_width",
            },
        ),
    },
    "ChargeDensityDescriptor": {
        **_same_reason(
            _DESC_REASON,
            _DESC_TESTS,
            {
                "check_complex_data": "test_rejects_tables_and_bad_samples",
                "check_dict_unchanged": "test_stateless_fit_transform_clone_and_pipeline",
                "check_dont_overwrite_parameters": "test_stateless_fit_transform_clone_and_pipeline",
                "check_dtype_object": "test_rejects_tables_and_bad_samples",
                "check_estimator_sparse_array": "test_rejects_tables_and_bad_samples",
                "check_estimator_sparse_matrix": "test_rejects_tables_and_bad_samples",
                "check_estimators_dtypes": "test_rejects_tables_and_bad_samples",
                "check_estimators_pickle": "test_pickle_roundtrip",
                "check_estimators_pickle(readonly_memmap=True)": "test_pickle_roundtrip",
                "check_f_contiguous_array_estimator": "test_rejects_tables_and_bad_samples",
                "check_fit2d_1feature": "test_rejects_tables_and_bad_samples",
                "check_fit2d_1sample": "test_rejects_tables_and_bad_samples",
                "check_fit2d_predict1d": "test_rejects_tables_and_bad_samples",
                "check_fit_idempotent": "test_stateless_fit_transform_clone_and_pipeline",
                "check_fit_score_takes_y": "test_stateless_fit_transform_clone_and_pipeline",
                "check_methods_sample_order_invariance": "test_sample_order_and_subset_invariance",
                "check_methods_subset_invariance": "test_sample_order_and_subset_invariance",
                "check_pipeline_consistency": "test_stateless_fit_transform_clone_and_pipeline",
                "check_transformer_data_not_an_array": "test_inputs_paths_objects_volumetric_data_agree",
                "check_transformer_general": "test_stateless_fit_transform_clone_and_pipeline",
                "check_transformer_general(readonly_memmap=True)": "test_stateless_fit_transform_clone_and_pipeline",
                "check_transformers_unfitted_stateless": "test_stateless_fit_transform_clone_and_pipeline",
            },
        ),
        **_same_reason(
            (
                "takes charge densities or file paths, not numeric tables: a 2D float "
                "array is rejected; n_features_in_ has no meaning for densities"
            ),
            _DESC_TESTS,
            {
                "check_n_features_in": "test_rejects_tables_and_bad_samples",
                "check_n_features_in_after_fitting": "test_rejects_tables_and_bad_samples",
            },
        ),
        **_same_reason(
            (
                "takes charge densities or file paths, not numeric tables: a 2D float "
                "array is rejected; so is a sparse matrix"
            ),
            _DESC_TESTS,
            {
                "check_estimator_sparse_tag": "test_rejects_tables_and_bad_samples",
            },
        ),
        **_same_reason(
            (
                "takes charge densities or file paths, not numeric tables: a 2D float "
                "array is rejected; empty X is rejected with our own message, not "
                "check_array's"
            ),
            _DESC_TESTS,
            {
                "check_estimators_empty_data_messages": "test_rejects_tables_and_bad_samples",
            },
        ),
        **_same_reason(
            (
                "takes charge densities or file paths, not numeric tables: a 2D float "
                "array is rejected; non-finite densities are rejected when a density is "
                "built"
            ),
            _DESC_TESTS,
            {
                "check_estimators_nan_inf": "test_rejects_tables_and_bad_samples",
            },
        ),
        **_same_reason(
            (
                "takes charge densities or file paths, not numeric tables: a 2D float "
                "array is rejected; a 1D array of paths is valid input here"
            ),
            _DESC_TESTS,
            {
                "check_fit1d": "test_rejects_tables_and_bad_samples",
            },
        ),
    },
    "ChargeDensityVoxelizer": {
        **_same_reason(
            _VOX_REASON,
            _VOX_TESTS,
            {
                "check_complex_data": "test_rejects_tables_and_non_density_samples",
                "check_dict_unchanged": "test_fit_is_idempotent_and_leaves_state_unchanged",
                "check_dtype_object": "test_accepts_lists_tuples_and_arrays_of_paths",
                "check_estimators_dtypes": "test_output_is_float32_whatever_the_grid_dtype",
                "check_estimators_empty_data_messages": "test_empty_input_raises",
                "check_estimators_nan_inf": "test_nan_density_raises_naming_sample",
                "check_estimators_pickle": "test_clone_and_pickle_roundtrip",
                "check_estimators_pickle(readonly_memmap=True)": "test_clone_and_pickle_roundtrip",
                "check_f_contiguous_array_estimator": "test_memory_layout_and_read_only_grids",
                "check_fit2d_predict1d": "test_single_sample_must_be_wrapped_in_a_list",
                "check_fit_idempotent": "test_fit_is_idempotent_and_leaves_state_unchanged",
                "check_fit_score_takes_y": "test_fit_accepts_y_and_returns_self",
                "check_methods_sample_order_invariance": "test_sample_order_and_subset_invariance",
                "check_methods_subset_invariance": "test_sample_order_and_subset_invariance",
                "check_pipeline_consistency": "test_pipeline_with_projector",
                "check_transformer_data_not_an_array": "test_accepts_lists_tuples_and_arrays_of_paths",
                "check_transformer_general": "test_fit_accepts_y_and_returns_self",
                "check_transformer_general(readonly_memmap=True)": "test_memory_layout_and_read_only_grids",
                "check_transformers_unfitted_stateless": "test_transform_without_fit",
            },
        ),
        **_same_reason(
            (
                "takes a list of charge densities or file paths (CHGCAR, npz), not "
                "numeric tables: a 2D float array is rejected; densities come on grids of"
                " any size, so there is no n_features_in_"
            ),
            _VOX_TESTS,
            {
                "check_n_features_in": "test_output_shape_set_by_grid_size_not_input_grid",
                "check_n_features_in_after_fitting": "test_output_shape_set_by_grid_size_not_input_grid",
            },
        ),
        **_same_reason(
            (
                "takes a list of charge densities or file paths (CHGCAR, npz), not "
                "numeric tables: a 2D float array is rejected; so is a sparse matrix"
            ),
            _VOX_TESTS,
            {
                "check_estimator_sparse_tag": "test_rejects_tables_and_non_density_samples",
            },
        ),
        **_same_reason(
            (
                "a 1D array of file paths is its normal input, so fitting on a 1D float "
                "array does not raise; the floats are rejected in transform, naming "
                "sample 0"
            ),
            _VOX_TESTS,
            {
                "check_fit1d": "test_rejects_tables_and_non_density_samples",
            },
        ),
    },
    "CrystalGraphFeaturizer": {
        **_same_reason(
            _GRAPH_REASON,
            _GRAPH_TESTS,
            {
                "check_complex_data": "test_clear_errors",
                "check_dict_unchanged": "test_stateless_clone_pickle_and_parallel",
                "check_dont_overwrite_parameters": "test_stateless_clone_pickle_and_parallel",
                "check_dtype_object": "test_clear_errors",
                "check_estimator_sparse_array": "test_clear_errors",
                "check_estimator_sparse_matrix": "test_clear_errors",
                "check_estimator_sparse_tag": "test_clear_errors",
                "check_estimators_dtypes": "test_accepts_densities_paths_and_dicts",
                "check_estimators_empty_data_messages": "test_clear_errors",
                "check_estimators_fit_returns_self": "test_stateless_clone_pickle_and_parallel",
                "check_estimators_nan_inf": "test_clear_errors",
                "check_estimators_overwrite_params": "test_stateless_clone_pickle_and_parallel",
                "check_estimators_pickle": "test_stateless_clone_pickle_and_parallel",
                "check_estimators_pickle(readonly_memmap=True)": "test_stateless_clone_pickle_and_parallel",
                "check_f_contiguous_array_estimator": "test_accepts_densities_paths_and_dicts",
                "check_fit1d": "test_clear_errors",
                "check_fit2d_1feature": "test_clear_errors",
                "check_fit2d_1sample": "test_clear_errors",
                "check_fit2d_predict1d": "test_clear_errors",
                "check_fit_check_is_fitted": "test_stateless_clone_pickle_and_parallel",
                "check_fit_idempotent": "test_stateless_clone_pickle_and_parallel",
                "check_fit_score_takes_y": "test_stateless_clone_pickle_and_parallel",
                "check_methods_sample_order_invariance": "test_stateless_clone_pickle_and_parallel",
                "check_methods_subset_invariance": "test_stateless_clone_pickle_and_parallel",
                "check_pipeline_consistency": "test_stateless_clone_pickle_and_parallel",
                "check_positive_only_tag_during_fit": "test_clear_errors",
                "check_readonly_memmap_input": "test_accepts_densities_paths_and_dicts",
                "check_transformer_data_not_an_array": "test_accepts_densities_paths_and_dicts",
                "check_transformer_general": "test_cell_choice_and_translation_invariance",
                "check_transformer_general(readonly_memmap=True)": "test_cell_choice_and_translation_invariance",
                "check_transformers_unfitted_stateless": "test_stateless_clone_pickle_and_parallel",
            },
        ),
        **_same_reason(
            (
                "takes crystal structures, ChargeDensity objects or file paths and "
                "returns crystal graphs, not numeric tables: a 2D float array is "
                "rejected; the output is graphs, so there is no n_features_in_"
            ),
            _GRAPH_TESTS,
            {
                "check_n_features_in": "test_graph_rows_follow_sites",
                "check_n_features_in_after_fitting": "test_graph_rows_follow_sites",
            },
        ),
    },
    "ECD3DCNNRegressor": {
        **_same_reason(
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py",
            _GRID_NET_CHECKS,
        ),
        **_SKORCH_GRID_NET_ENTRIES,
    },
    "FusionRegressor": {
        **_same_reason(
            (
                "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
                "path), not the numeric tables this check feeds"
            ),
            "tests/models/test_fusion.py",
            {
                "check_dict_unchanged": "test_fusion_trains_on_paths",
                "check_dont_overwrite_parameters": "test_fusion_trains_on_paths",
                "check_dtype_object": "test_fusion_errors",
                "check_estimator_sparse_array": "test_fusion_errors",
                "check_estimator_sparse_matrix": "test_fusion_errors",
                "check_estimator_sparse_tag": "test_fusion_errors",
                "check_estimators_dtypes": "test_fusion_errors",
                "check_estimators_empty_data_messages": "test_fusion_errors",
                "check_estimators_fit_returns_self": "test_fusion_trains_on_paths",
                "check_estimators_nan_inf": "test_fusion_errors",
                "check_estimators_overwrite_params": "test_fusion_trains_on_paths",
                "check_estimators_pickle": "test_fusion_trains_on_paths",
                "check_f_contiguous_array_estimator": "test_fusion_trains_on_paths",
                "check_fit1d": "test_fusion_errors",
                "check_fit2d_1feature": "test_fusion_errors",
                "check_fit2d_1sample": "test_fusion_errors",
                "check_fit2d_predict1d": "test_fusion_errors",
                "check_fit_check_is_fitted": "test_fusion_errors",
                "check_fit_idempotent": "test_fusion_trains_on_paths",
                "check_fit_score_takes_y": "test_fusion_trains_on_paths",
                "check_n_features_in": "test_fusion_trains_on_paths",
                "check_n_features_in_after_fitting": "test_fusion_trains_on_paths",
                "check_positive_only_tag_during_fit": "test_fusion_errors",
                "check_readonly_memmap_input": "test_fusion_trains_on_paths",
                "check_regressor_data_not_an_array": "test_fusion_trains_on_paths",
                "check_regressor_multioutput": "test_fusion_trains_on_paths",
                "check_regressors_int": "test_fusion_trains_on_paths",
                "check_regressors_no_decision_function": "test_fusion_trains_on_paths",
                "check_regressors_train": "test_fusion_trains_on_paths",
                "check_supervised_y_2d": "test_fusion_trains_on_paths",
            },
        ),
    },
    "MagpieCNNRegressor": {
        **_same_reason(
            (
                "skorch's set_params initialises callbacks/optimizer eagerly and fails on"
                " the nonsense values this check sets"
            ),
            "tests/models/test_regressors.py",
            {
                "check_do_not_raise_errors_in_init_or_set_params": "test_set_params_module_width_takes_effect",
                "check_set_params": "test_set_params_module_width_takes_effect",
            },
        ),
        **_same_reason(
            (
                "skorch's NeuralNet.__init__ sets history_, initialized_, virtual_params_"
                " and stores module__* keyword parameters as attributes"
            ),
            "tests/models/test_regressors.py",
            {
                "check_no_attributes_set_in_init": "test_clone_pickle_and_save_load_params",
            },
        ),
    },
    "MagpieFeaturizer": {
        **_same_reason(
            _MAGPIE_REASON,
            _MAGPIE_TESTS,
            {
                "check_dict_unchanged": "test_fit_does_not_change_params",
                "check_dont_overwrite_parameters": "test_fit_does_not_change_params",
                "check_dtype_object": "test_input_containers_and_float64_output",
                "check_estimators_dtypes": "test_input_containers_and_float64_output",
                "check_estimators_fit_returns_self": "test_fit_returns_self_ignores_y_and_transform_needs_fit",
                "check_estimators_nan_inf": "test_bad_input_names_the_sample",
                "check_estimators_overwrite_params": "test_fit_does_not_change_params",
                "check_estimators_pickle": "test_pickle_roundtrip",
                "check_estimators_pickle(readonly_memmap=True)": "test_pickle_roundtrip",
                "check_f_contiguous_array_estimator": "test_input_containers_and_float64_output",
                "check_fit2d_1feature": "test_input_containers_and_float64_output",
                "check_fit2d_1sample": "test_rows_independent_of_order_and_batch",
                "check_fit2d_predict1d": "test_input_containers_and_float64_output",
                "check_fit_check_is_fitted": "test_fit_returns_self_ignores_y_and_transform_needs_fit",
                "check_fit_idempotent": "test_fit_is_idempotent_and_deterministic",
                "check_fit_score_takes_y": "test_fit_returns_self_ignores_y_and_transform_needs_fit",
                "check_methods_sample_order_invariance": "test_rows_independent_of_order_and_batch",
                "check_methods_subset_invariance": "test_rows_independent_of_order_and_batch",
                "check_n_features_in": "test_feature_names_follow_dataframe_column",
                "check_n_features_in_after_fitting": "test_feature_names_follow_dataframe_column",
                "check_pipeline_consistency": "test_fit_is_idempotent_and_deterministic",
                "check_positive_only_tag_during_fit": "test_bad_input_names_the_sample",
                "check_readonly_memmap_input": "test_read_only_input",
                "check_transformer_data_not_an_array": "test_input_containers_and_float64_output",
                "check_transformer_general": "test_formula_structure_density_and_files_agree",
                "check_transformer_general(readonly_memmap=True)": "test_read_only_input",
                "check_transformer_preserve_dtypes": "test_input_containers_and_float64_output",
            },
        ),
    },
    "SEProjectedCNNRegressor": {
        **_same_reason(
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py",
            _GRID_NET_CHECKS,
        ),
        **_SKORCH_GRID_NET_ENTRIES,
    },
}

# Constructor arguments for the common tests, by estimator class name.
INIT_PARAMS: dict[str, dict] = {
    "AxisProjector": {},
    "CGCNNRegressor": {
        "max_epochs": 2,
        "batch_size": 8,
        "random_state": 0,
        "module__atom_fea_len": 4,
        "module__h_fea_len": 8,
    },
    "ChargeDensityDescriptor": {"n_bins": 6, "percentiles": (10, 50, 90)},
    "ChargeDensityVoxelizer": {"grid_size": 8},
    "CrystalGraphFeaturizer": {},
    "ECD3DCNNRegressor": {
        "max_epochs": 2,
        "random_state": 0,
        "module__conv1_channels": 4,
        "module__conv2_channels": 4,
        "module__dense_widths": (8, 8),
    },
    "FusionRegressor": {},
    "MagpieCNNRegressor": {"max_epochs": 10, "random_state": 0, "batch_size": 16},
    "MagpieFeaturizer": {},
    "SEProjectedCNNRegressor": {
        "max_epochs": 2,
        "random_state": 0,
        "module__se_channels": 4,
        "module__conv1_channels": 4,
        "module__conv2_channels": 4,
        "module__dense_widths": (8, 8),
    },
}


def _tested_estimators():
    """Yield one instance of every public estimator, built from ``INIT_PARAMS``."""
    from skecd.utils import all_estimators

    for name, cls in all_estimators():
        if name in SKIPPED_ESTIMATORS:
            continue
        yield cls(**INIT_PARAMS.get(name, {}))


# Estimators that are not run through parametrize_with_checks at all, with reason.
SKIPPED_ESTIMATORS: dict[str, str] = {
    "BaseSampleFeaturizer": "abstract base of the per-sample featurisers: it has no "
    "featurize_sample; its behaviour is tested through every subclass",
    "SkecdNetRegressor": "abstract skorch base of the skecd networks: it has no default module; "
    "its behaviour is tested through every subclass",
}


def _get_expected_failed_checks(estimator):
    """Return ``{check_name: reason}`` for ``parametrize_with_checks``."""
    table = EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})
    return {
        check: f"{reason} (replaced by {replacement})"
        for check, (reason, replacement) in table.items()
    }

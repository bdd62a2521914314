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

# Each value: {check_name: (reason, "tests/path.py::test_name")}.
# Entries are grouped by estimator; keep them in alphabetical order.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, tuple[str, str]]] = {
    "AxisProjector": {
        "check_complex_data": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_rejects_bad_input",
        ),
        "check_dict_unchanged": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_is_stateless",
        ),
        "check_dtype_object": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_rejects_bad_input",
        ),
        "check_estimator_sparse_tag": (
            _PROJ_REASON + "; so is a sparse matrix",
            _PROJ_TESTS + "test_projector_rejects_bad_input",
        ),
        "check_estimators_dtypes": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_preserves_float_dtype",
        ),
        "check_estimators_empty_data_messages": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_rejects_bad_input",
        ),
        "check_estimators_nan_inf": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_rejects_nan_naming_samples",
        ),
        "check_estimators_pickle": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_clone_and_pickle",
        ),
        "check_estimators_pickle(readonly_memmap=True)": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_clone_and_pickle",
        ),
        "check_f_contiguous_array_estimator": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_layout_independent_of_memory_order",
        ),
        "check_fit1d": (
            "stateless: fit ignores X (as FunctionTransformer does), so a 1D array does not "
            "raise in fit; transform rejects it",
            _PROJ_TESTS + "test_projector_rejects_bad_input",
        ),
        "check_fit2d_predict1d": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_rejects_bad_input",
        ),
        "check_fit_idempotent": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_is_stateless",
        ),
        "check_fit_score_takes_y": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_fit_returns_self_and_ignores_y",
        ),
        "check_methods_sample_order_invariance": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_sample_order_and_subset_invariance",
        ),
        "check_methods_subset_invariance": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_sample_order_and_subset_invariance",
        ),
        "check_n_features_in": (
            _PROJ_REASON + "; the output shape follows D, so there is no n_features_in_",
            _PROJ_TESTS + "test_views_follow_the_documented_layout",
        ),
        "check_n_features_in_after_fitting": (
            _PROJ_REASON + "; the output shape follows D, so there is no n_features_in_",
            _PROJ_TESTS + "test_views_follow_the_documented_layout",
        ),
        "check_pipeline_consistency": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_is_stateless",
        ),
        "check_transformer_data_not_an_array": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_layout_independent_of_memory_order",
        ),
        "check_transformer_general": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_views_follow_the_documented_layout",
        ),
        "check_transformer_general(readonly_memmap=True)": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_layout_independent_of_memory_order",
        ),
        "check_transformer_preserve_dtypes": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_preserves_float_dtype",
        ),
        "check_transformers_unfitted_stateless": (
            _PROJ_REASON,
            _PROJ_TESTS + "test_projector_is_stateless",
        ),
    },
    "CGCNNRegressor": {
        "check_complex_data": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_dict_unchanged": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_reproducible_with_random_state_and_pickles",
        ),
        "check_dont_overwrite_parameters": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_reproducible_with_random_state_and_pickles",
        ),
        "check_dtype_object": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_estimator_sparse_array": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_estimator_sparse_matrix": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_estimator_sparse_tag": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_estimators_dtypes": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_regressor_trains_on_real_data",
        ),
        "check_estimators_empty_data_messages": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_estimators_fit_returns_self": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_regressor_trains_on_real_data",
        ),
        "check_estimators_nan_inf": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_estimators_overwrite_params": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_reproducible_with_random_state_and_pickles",
        ),
        "check_estimators_partial_fit_n_features": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_estimators_pickle": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_reproducible_with_random_state_and_pickles",
        ),
        "check_estimators_pickle(readonly_memmap=True)": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_reproducible_with_random_state_and_pickles",
        ),
        "check_f_contiguous_array_estimator": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_module_is_invariant_to_atom_order_and_batching",
        ),
        "check_fit1d": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_fit2d_1feature": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_fit2d_1sample": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_single_atom_crystal_in_training_batch",
        ),
        "check_fit2d_predict1d": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_fit_check_is_fitted": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_fit_idempotent": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_reproducible_with_random_state_and_pickles",
        ),
        "check_fit_score_takes_y": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_pipeline_cross_validate_leave_one_element_out",
        ),
        "check_methods_sample_order_invariance": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_module_is_invariant_to_atom_order_and_batching",
        ),
        "check_methods_subset_invariance": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_module_is_invariant_to_atom_order_and_batching",
        ),
        "check_n_features_in": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_regressor_trains_on_real_data",
        ),
        "check_n_features_in_after_fitting": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_regressor_trains_on_real_data",
        ),
        "check_no_attributes_set_in_init": (
            "skorch's NeuralNet.__init__ sets history_, initialized_ and its "
            "virtual-parameter bookkeeping; nothing learnt is set before fit",
            _CGCNN_TESTS + "test_reproducible_with_random_state_and_pickles",
        ),
        "check_pipeline_consistency": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_reproducible_with_random_state_and_pickles",
        ),
        "check_positive_only_tag_during_fit": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_readonly_memmap_input": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_regressor_trains_on_real_data",
        ),
        "check_regressor_data_not_an_array": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_pipeline_cross_validate_leave_one_element_out",
        ),
        "check_regressor_multioutput": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_regressor_trains_on_real_data",
        ),
        "check_regressors_int": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_single_target_and_single_atom_batches",
        ),
        "check_regressors_no_decision_function": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_regressor_trains_on_real_data",
        ),
        "check_regressors_train": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_regressor_trains_on_real_data",
        ),
        "check_regressors_train(readonly_memmap=True)": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_regressor_trains_on_real_data",
        ),
        "check_regressors_train(readonly_memmap=True,X_dtype=float32)": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_regressor_trains_on_real_data",
        ),
        "check_requires_y_none": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_clear_errors",
        ),
        "check_set_params": (
            "skorch's set_params routes the check's arbitrary float values into the "
            "callback and optimiser set-up, which then fail; real parameters work",
            _CGCNN_TESTS + "test_grid_search_over_width",
        ),
        "check_supervised_y_2d": (
            _CGCNN_REASON,
            _CGCNN_TESTS + "test_regressor_trains_on_real_data",
        ),
    },
    "ChargeDensityDescriptor": {
        "check_complex_data": (
            _DESC_REASON,
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_dict_unchanged": (
            _DESC_REASON,
            _DESC_TESTS + "test_stateless_fit_transform_clone_and_pipeline",
        ),
        "check_dont_overwrite_parameters": (
            _DESC_REASON,
            _DESC_TESTS + "test_stateless_fit_transform_clone_and_pipeline",
        ),
        "check_dtype_object": (
            _DESC_REASON,
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_estimator_sparse_array": (
            _DESC_REASON,
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_estimator_sparse_matrix": (
            _DESC_REASON,
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_estimator_sparse_tag": (
            _DESC_REASON + "; so is a sparse matrix",
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_estimators_dtypes": (
            _DESC_REASON,
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_estimators_empty_data_messages": (
            _DESC_REASON + "; empty X is rejected with our own message, not check_array's",
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_estimators_nan_inf": (
            _DESC_REASON + "; non-finite densities are rejected when a density is built",
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_estimators_pickle": (
            _DESC_REASON,
            _DESC_TESTS + "test_pickle_roundtrip",
        ),
        "check_estimators_pickle(readonly_memmap=True)": (
            _DESC_REASON,
            _DESC_TESTS + "test_pickle_roundtrip",
        ),
        "check_f_contiguous_array_estimator": (
            _DESC_REASON,
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_fit1d": (
            _DESC_REASON + "; a 1D array of paths is valid input here",
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_fit2d_1feature": (
            _DESC_REASON,
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_fit2d_1sample": (
            _DESC_REASON,
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_fit2d_predict1d": (
            _DESC_REASON,
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_fit_idempotent": (
            _DESC_REASON,
            _DESC_TESTS + "test_stateless_fit_transform_clone_and_pipeline",
        ),
        "check_fit_score_takes_y": (
            _DESC_REASON,
            _DESC_TESTS + "test_stateless_fit_transform_clone_and_pipeline",
        ),
        "check_methods_sample_order_invariance": (
            _DESC_REASON,
            _DESC_TESTS + "test_sample_order_and_subset_invariance",
        ),
        "check_methods_subset_invariance": (
            _DESC_REASON,
            _DESC_TESTS + "test_sample_order_and_subset_invariance",
        ),
        "check_n_features_in": (
            _DESC_REASON + "; n_features_in_ has no meaning for densities",
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_n_features_in_after_fitting": (
            _DESC_REASON + "; n_features_in_ has no meaning for densities",
            _DESC_TESTS + "test_rejects_tables_and_bad_samples",
        ),
        "check_pipeline_consistency": (
            _DESC_REASON,
            _DESC_TESTS + "test_stateless_fit_transform_clone_and_pipeline",
        ),
        "check_transformer_data_not_an_array": (
            _DESC_REASON,
            _DESC_TESTS + "test_inputs_paths_objects_volumetric_data_agree",
        ),
        "check_transformer_general": (
            _DESC_REASON,
            _DESC_TESTS + "test_stateless_fit_transform_clone_and_pipeline",
        ),
        "check_transformer_general(readonly_memmap=True)": (
            _DESC_REASON,
            _DESC_TESTS + "test_stateless_fit_transform_clone_and_pipeline",
        ),
        "check_transformers_unfitted_stateless": (
            _DESC_REASON,
            _DESC_TESTS + "test_stateless_fit_transform_clone_and_pipeline",
        ),
    },
    "ChargeDensityVoxelizer": {
        "check_complex_data": (
            _VOX_REASON,
            _VOX_TESTS + "test_rejects_tables_and_non_density_samples",
        ),
        "check_dict_unchanged": (
            _VOX_REASON,
            _VOX_TESTS + "test_fit_is_idempotent_and_leaves_state_unchanged",
        ),
        "check_dtype_object": (
            _VOX_REASON,
            _VOX_TESTS + "test_accepts_lists_tuples_and_arrays_of_paths",
        ),
        "check_estimator_sparse_tag": (
            _VOX_REASON + "; so is a sparse matrix",
            _VOX_TESTS + "test_rejects_tables_and_non_density_samples",
        ),
        "check_estimators_dtypes": (
            _VOX_REASON,
            _VOX_TESTS + "test_output_is_float32_whatever_the_grid_dtype",
        ),
        "check_estimators_empty_data_messages": (
            _VOX_REASON,
            _VOX_TESTS + "test_empty_input_raises",
        ),
        "check_estimators_nan_inf": (
            _VOX_REASON,
            _VOX_TESTS + "test_nan_density_raises_naming_sample",
        ),
        "check_estimators_pickle": (
            _VOX_REASON,
            _VOX_TESTS + "test_clone_and_pickle_roundtrip",
        ),
        "check_estimators_pickle(readonly_memmap=True)": (
            _VOX_REASON,
            _VOX_TESTS + "test_clone_and_pickle_roundtrip",
        ),
        "check_f_contiguous_array_estimator": (
            _VOX_REASON,
            _VOX_TESTS + "test_memory_layout_and_read_only_grids",
        ),
        "check_fit1d": (
            "a 1D array of file paths is its normal input, so fitting on a 1D float array does "
            "not raise; the floats are rejected in transform, naming sample 0",
            _VOX_TESTS + "test_rejects_tables_and_non_density_samples",
        ),
        "check_fit2d_predict1d": (
            _VOX_REASON,
            _VOX_TESTS + "test_single_sample_must_be_wrapped_in_a_list",
        ),
        "check_fit_idempotent": (
            _VOX_REASON,
            _VOX_TESTS + "test_fit_is_idempotent_and_leaves_state_unchanged",
        ),
        "check_fit_score_takes_y": (
            _VOX_REASON,
            _VOX_TESTS + "test_fit_accepts_y_and_returns_self",
        ),
        "check_methods_sample_order_invariance": (
            _VOX_REASON,
            _VOX_TESTS + "test_sample_order_and_subset_invariance",
        ),
        "check_methods_subset_invariance": (
            _VOX_REASON,
            _VOX_TESTS + "test_sample_order_and_subset_invariance",
        ),
        "check_n_features_in": (
            _VOX_REASON + "; densities come on grids of any size, so there is no n_features_in_",
            _VOX_TESTS + "test_output_shape_set_by_grid_size_not_input_grid",
        ),
        "check_n_features_in_after_fitting": (
            _VOX_REASON + "; densities come on grids of any size, so there is no n_features_in_",
            _VOX_TESTS + "test_output_shape_set_by_grid_size_not_input_grid",
        ),
        "check_pipeline_consistency": (
            _VOX_REASON,
            _VOX_TESTS + "test_pipeline_with_projector",
        ),
        "check_transformer_data_not_an_array": (
            _VOX_REASON,
            _VOX_TESTS + "test_accepts_lists_tuples_and_arrays_of_paths",
        ),
        "check_transformer_general": (
            _VOX_REASON,
            _VOX_TESTS + "test_fit_accepts_y_and_returns_self",
        ),
        "check_transformer_general(readonly_memmap=True)": (
            _VOX_REASON,
            _VOX_TESTS + "test_memory_layout_and_read_only_grids",
        ),
        "check_transformers_unfitted_stateless": (
            _VOX_REASON,
            _VOX_TESTS + "test_transform_without_fit",
        ),
    },
    "CrystalGraphFeaturizer": {
        "check_complex_data": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_clear_errors",
        ),
        "check_dict_unchanged": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_stateless_clone_pickle_and_parallel",
        ),
        "check_dont_overwrite_parameters": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_stateless_clone_pickle_and_parallel",
        ),
        "check_dtype_object": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_clear_errors",
        ),
        "check_estimator_sparse_array": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_clear_errors",
        ),
        "check_estimator_sparse_matrix": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_clear_errors",
        ),
        "check_estimator_sparse_tag": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_clear_errors",
        ),
        "check_estimators_dtypes": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_accepts_densities_paths_and_dicts",
        ),
        "check_estimators_empty_data_messages": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_clear_errors",
        ),
        "check_estimators_fit_returns_self": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_stateless_clone_pickle_and_parallel",
        ),
        "check_estimators_nan_inf": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_clear_errors",
        ),
        "check_estimators_overwrite_params": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_stateless_clone_pickle_and_parallel",
        ),
        "check_estimators_pickle": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_stateless_clone_pickle_and_parallel",
        ),
        "check_estimators_pickle(readonly_memmap=True)": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_stateless_clone_pickle_and_parallel",
        ),
        "check_f_contiguous_array_estimator": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_accepts_densities_paths_and_dicts",
        ),
        "check_fit1d": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_clear_errors",
        ),
        "check_fit2d_1feature": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_clear_errors",
        ),
        "check_fit2d_1sample": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_clear_errors",
        ),
        "check_fit2d_predict1d": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_clear_errors",
        ),
        "check_fit_check_is_fitted": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_stateless_clone_pickle_and_parallel",
        ),
        "check_fit_idempotent": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_stateless_clone_pickle_and_parallel",
        ),
        "check_fit_score_takes_y": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_stateless_clone_pickle_and_parallel",
        ),
        "check_methods_sample_order_invariance": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_stateless_clone_pickle_and_parallel",
        ),
        "check_methods_subset_invariance": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_stateless_clone_pickle_and_parallel",
        ),
        "check_n_features_in": (
            _GRAPH_REASON + "; the output is graphs, so there is no n_features_in_",
            _GRAPH_TESTS + "test_graph_rows_follow_sites",
        ),
        "check_n_features_in_after_fitting": (
            _GRAPH_REASON + "; the output is graphs, so there is no n_features_in_",
            _GRAPH_TESTS + "test_graph_rows_follow_sites",
        ),
        "check_pipeline_consistency": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_stateless_clone_pickle_and_parallel",
        ),
        "check_positive_only_tag_during_fit": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_clear_errors",
        ),
        "check_readonly_memmap_input": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_accepts_densities_paths_and_dicts",
        ),
        "check_transformer_data_not_an_array": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_accepts_densities_paths_and_dicts",
        ),
        "check_transformer_general": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_cell_choice_and_translation_invariance",
        ),
        "check_transformer_general(readonly_memmap=True)": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_cell_choice_and_translation_invariance",
        ),
        "check_transformers_unfitted_stateless": (
            _GRAPH_REASON,
            _GRAPH_TESTS + "test_stateless_clone_pickle_and_parallel",
        ),
    },
    "ECD3DCNNRegressor": {
        "check_dict_unchanged": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_do_not_raise_errors_in_init_or_set_params": (
            "skorch's set_params initialises callbacks/optimizer eagerly and fails on "
            "the nonsense values this check sets",
            "tests/models/test_regressors.py::test_set_params_module_width_takes_effect",
        ),
        "check_dont_overwrite_parameters": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_dtype_object": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_estimators_dtypes": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_estimators_fit_returns_self": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_estimators_nan_inf": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_estimators_overwrite_params": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_estimators_partial_fit_n_features": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_estimators_pickle": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_clone_pickle_and_save_load_params",
        ),
        "check_f_contiguous_array_estimator": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_fit2d_1feature": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_fit2d_1sample": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_fit2d_predict1d": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_fit_check_is_fitted": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_fit_idempotent": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_fit_score_takes_y": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_methods_sample_order_invariance": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_methods_subset_invariance": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_n_features_in": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_n_features_in_after_fitting": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_no_attributes_set_in_init": (
            "skorch's NeuralNet.__init__ sets history_, initialized_, virtual_params_ "
            "and stores module__* keyword parameters as attributes",
            "tests/models/test_regressors.py::test_clone_pickle_and_save_load_params",
        ),
        "check_pipeline_consistency": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_positive_only_tag_during_fit": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_readonly_memmap_input": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_regressor_data_not_an_array": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_regressor_multioutput": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_regressors_int": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_regressors_no_decision_function": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_regressors_train": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_set_params": (
            "skorch's set_params initialises callbacks/optimizer eagerly and fails on "
            "the nonsense values this check sets",
            "tests/models/test_regressors.py::test_set_params_module_width_takes_effect",
        ),
        "check_supervised_y_2d": (
            "takes (n, 1, D, D, D) voxel grids, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
    },
    "FusionRegressor": {
        "check_dict_unchanged": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_dont_overwrite_parameters": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_dtype_object": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_errors",
        ),
        "check_estimator_sparse_array": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_errors",
        ),
        "check_estimator_sparse_matrix": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_errors",
        ),
        "check_estimator_sparse_tag": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_errors",
        ),
        "check_estimators_dtypes": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_errors",
        ),
        "check_estimators_empty_data_messages": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_errors",
        ),
        "check_estimators_fit_returns_self": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_estimators_nan_inf": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_errors",
        ),
        "check_estimators_overwrite_params": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_estimators_pickle": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_f_contiguous_array_estimator": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_fit1d": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_errors",
        ),
        "check_fit2d_1feature": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_errors",
        ),
        "check_fit2d_1sample": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_errors",
        ),
        "check_fit2d_predict1d": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_errors",
        ),
        "check_fit_check_is_fitted": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_errors",
        ),
        "check_fit_idempotent": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_fit_score_takes_y": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_n_features_in": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_n_features_in_after_fitting": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_positive_only_tag_during_fit": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_errors",
        ),
        "check_readonly_memmap_input": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_regressor_data_not_an_array": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_regressor_multioutput": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_regressors_int": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_regressors_no_decision_function": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_regressors_train": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
        "check_supervised_y_2d": (
            "takes one density or path per sample (ChargeDensity, CHGCAR or .npz "
            "path), not the numeric tables this check feeds",
            "tests/models/test_fusion.py::test_fusion_trains_on_paths",
        ),
    },
    "MagpieCNNRegressor": {
        "check_do_not_raise_errors_in_init_or_set_params": (
            "skorch's set_params initialises callbacks/optimizer eagerly and fails on "
            "the nonsense values this check sets",
            "tests/models/test_regressors.py::test_set_params_module_width_takes_effect",
        ),
        "check_no_attributes_set_in_init": (
            "skorch's NeuralNet.__init__ sets history_, initialized_, virtual_params_ "
            "and stores module__* keyword parameters as attributes",
            "tests/models/test_regressors.py::test_clone_pickle_and_save_load_params",
        ),
        "check_set_params": (
            "skorch's set_params initialises callbacks/optimizer eagerly and fails on "
            "the nonsense values this check sets",
            "tests/models/test_regressors.py::test_set_params_module_width_takes_effect",
        ),
    },
    "MagpieFeaturizer": {
        "check_dict_unchanged": (_MAGPIE_REASON, _MAGPIE_TESTS + "test_fit_does_not_change_params"),
        "check_dont_overwrite_parameters": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_fit_does_not_change_params",
        ),
        "check_dtype_object": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_input_containers_and_float64_output",
        ),
        "check_estimators_dtypes": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_input_containers_and_float64_output",
        ),
        "check_estimators_fit_returns_self": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_fit_returns_self_ignores_y_and_transform_needs_fit",
        ),
        "check_estimators_nan_inf": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_bad_input_names_the_sample",
        ),
        "check_estimators_overwrite_params": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_fit_does_not_change_params",
        ),
        "check_estimators_pickle": (_MAGPIE_REASON, _MAGPIE_TESTS + "test_pickle_roundtrip"),
        "check_estimators_pickle(readonly_memmap=True)": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_pickle_roundtrip",
        ),
        "check_f_contiguous_array_estimator": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_input_containers_and_float64_output",
        ),
        "check_fit2d_1feature": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_input_containers_and_float64_output",
        ),
        "check_fit2d_1sample": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_rows_independent_of_order_and_batch",
        ),
        "check_fit2d_predict1d": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_input_containers_and_float64_output",
        ),
        "check_fit_check_is_fitted": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_fit_returns_self_ignores_y_and_transform_needs_fit",
        ),
        "check_fit_idempotent": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_fit_is_idempotent_and_deterministic",
        ),
        "check_fit_score_takes_y": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_fit_returns_self_ignores_y_and_transform_needs_fit",
        ),
        "check_methods_sample_order_invariance": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_rows_independent_of_order_and_batch",
        ),
        "check_methods_subset_invariance": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_rows_independent_of_order_and_batch",
        ),
        "check_n_features_in": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_feature_names_follow_dataframe_column",
        ),
        "check_n_features_in_after_fitting": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_feature_names_follow_dataframe_column",
        ),
        "check_pipeline_consistency": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_fit_is_idempotent_and_deterministic",
        ),
        "check_positive_only_tag_during_fit": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_bad_input_names_the_sample",
        ),
        "check_readonly_memmap_input": (_MAGPIE_REASON, _MAGPIE_TESTS + "test_read_only_input"),
        "check_transformer_data_not_an_array": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_input_containers_and_float64_output",
        ),
        "check_transformer_general": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_formula_structure_density_and_files_agree",
        ),
        "check_transformer_general(readonly_memmap=True)": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_read_only_input",
        ),
        "check_transformer_preserve_dtypes": (
            _MAGPIE_REASON,
            _MAGPIE_TESTS + "test_input_containers_and_float64_output",
        ),
    },
    "SEProjectedCNNRegressor": {
        "check_dict_unchanged": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_do_not_raise_errors_in_init_or_set_params": (
            "skorch's set_params initialises callbacks/optimizer eagerly and fails on "
            "the nonsense values this check sets",
            "tests/models/test_regressors.py::test_set_params_module_width_takes_effect",
        ),
        "check_dont_overwrite_parameters": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_dtype_object": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_estimators_dtypes": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_estimators_fit_returns_self": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_estimators_nan_inf": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_estimators_overwrite_params": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_estimators_partial_fit_n_features": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_estimators_pickle": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_clone_pickle_and_save_load_params",
        ),
        "check_f_contiguous_array_estimator": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_fit2d_1feature": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_fit2d_1sample": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_fit2d_predict1d": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_fit_check_is_fitted": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_fit_idempotent": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_fit_score_takes_y": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_methods_sample_order_invariance": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_methods_subset_invariance": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_reproducible_to_the_bit",
        ),
        "check_n_features_in": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_n_features_in_after_fitting": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_no_attributes_set_in_init": (
            "skorch's NeuralNet.__init__ sets history_, initialized_, virtual_params_ "
            "and stores module__* keyword parameters as attributes",
            "tests/models/test_regressors.py::test_clone_pickle_and_save_load_params",
        ),
        "check_pipeline_consistency": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_positive_only_tag_during_fit": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_errors",
        ),
        "check_readonly_memmap_input": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_regressor_data_not_an_array": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_regressor_multioutput": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_regressors_int": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_regressors_no_decision_function": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_regressors_train": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
        "check_set_params": (
            "skorch's set_params initialises callbacks/optimizer eagerly and fails on "
            "the nonsense values this check sets",
            "tests/models/test_regressors.py::test_set_params_module_width_takes_effect",
        ),
        "check_supervised_y_2d": (
            "takes (n, 3, D, D, D) axis views, not the 2D tables this check feeds",
            "tests/models/test_regressors.py::test_trains_and_predicts_shape",
        ),
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
    "SkecdNetRegressor": "abstract skorch base of the skecd networks: it has no default module; "
    "its behaviour is tested through every subclass",
}


def _get_expected_failed_checks(estimator):
    """Return ``{check_name: reason}`` for ``parametrize_with_checks``."""
    table = EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})
    return {check: f"{reason} (replaced by {replacement})" for check, (reason, replacement) in table.items()}

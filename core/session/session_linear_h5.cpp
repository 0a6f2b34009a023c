// LinearRecord and TensorStats <-> HDF5 (docs/session-format.md, "Linear records"). Scalars
// are attributes, arrays are 1-D datasets that exist only when non-empty, stages are groups.
#include <cstdio>

#include "core/session/session_records_h5.h"

namespace qs::h5 {

namespace {

std::string layer_group_name(int layer)
{
    if (layer < 0) throw H5Error("invalid layer index " + std::to_string(layer));
    char name[32];
    std::snprintf(name, sizeof name, "layer_%03d", layer);
    return name;
}

int parse_layer_group_name(hid_t parent, const std::string& name)
{
    const std::string prefix = "layer_";
    bool valid = name.size() > prefix.size() && name.size() <= prefix.size() + 9 &&
                 name.compare(0, prefix.size(), prefix) == 0 &&
                 name.find_first_not_of("0123456789", prefix.size()) == std::string::npos;
    if (!valid)
        throw H5Error("unexpected group '" + name + "' at " + object_path(parent) +
                      " (expected layer_NNN)");
    return std::stoi(name.substr(prefix.size()));
}

void write_stats_by_stage(hid_t linear, const std::string& name,
                          const std::map<std::string, TensorStats>& stats_by_stage)
{
    Handle group = create_group(linear, name);
    for (const auto& [stage, stats] : stats_by_stage) {
        check_link_name(stage, "statistics stage");
        Handle stage_group = create_group(group.get(), stage);
        write_tensor_stats(stage_group.get(), stats);
    }
}

std::map<std::string, TensorStats> read_stats_by_stage(hid_t linear, const std::string& name)
{
    std::map<std::string, TensorStats> stats_by_stage;
    if (!has_link(linear, name)) return stats_by_stage;
    Handle group = open_group(linear, name);
    for (const auto& stage : child_names(group.get())) {
        Handle stage_group = open_group(group.get(), stage);
        stats_by_stage[stage] = read_tensor_stats(stage_group.get());
    }
    return stats_by_stage;
}

void write_linear(hid_t group, const LinearRecord& linear)
{
    write_int_attribute(group, "out_features", linear.out_features);
    write_int_attribute(group, "in_features", linear.in_features);
    write_string_attribute(group, "method", linear.method);
    write_double_attribute(group, "weight_relative_mse", linear.weight_relative_mse);
    write_double_attribute(group, "output_mse", linear.output_mse);
    write_double_attribute(group, "output_sqnr_db", linear.output_sqnr_db);
    write_double_attribute(group, "output_cosine", linear.output_cosine);
    write_int_attribute(group, "storage_bits", linear.storage_bits);
    write_int_attribute(group, "group_size", linear.group_size);
    write_double_attribute(group, "gptq_total_error", linear.gptq_total_error);
    write_array(group, "gptq_column_error", linear.gptq_column_error);
    write_array(group, "gptq_perm", linear.gptq_perm);
    write_array(group, "gptq_g_idx", linear.gptq_g_idx);
    write_array(group, "hessian_diag", linear.hessian_diag);
    write_stats_by_stage(group, "weight_stats", linear.weight_stats);
    write_stats_by_stage(group, "activation_stats", linear.activation_stats);
}

LinearRecord read_linear(hid_t group, int layer, const std::string& module)
{
    LinearRecord linear;
    linear.layer = layer;
    linear.module = module;
    linear.out_features = read_int_attribute(group, "out_features");
    linear.in_features = read_int_attribute(group, "in_features");
    linear.method = read_string_attribute(group, "method");
    linear.weight_relative_mse = read_double_attribute(group, "weight_relative_mse");
    linear.output_mse = read_double_attribute(group, "output_mse");
    linear.output_sqnr_db = read_double_attribute(group, "output_sqnr_db");
    linear.output_cosine = read_double_attribute(group, "output_cosine");
    linear.storage_bits = read_int_attribute(group, "storage_bits");
    linear.group_size = read_int32_attribute(group, "group_size");
    linear.gptq_total_error = read_double_attribute(group, "gptq_total_error");
    read_array(group, "gptq_column_error", linear.gptq_column_error);
    read_array(group, "gptq_perm", linear.gptq_perm);
    read_array(group, "gptq_g_idx", linear.gptq_g_idx);
    read_array(group, "hessian_diag", linear.hessian_diag);
    linear.weight_stats = read_stats_by_stage(group, "weight_stats");
    linear.activation_stats = read_stats_by_stage(group, "activation_stats");
    return linear;
}

}  // namespace

void write_tensor_stats(hid_t group, const TensorStats& stats)
{
    write_int_attribute(group, "rows", stats.rows);
    write_int_attribute(group, "cols", stats.cols);
    write_double_attribute(group, "min", stats.min);
    write_double_attribute(group, "max", stats.max);
    write_double_attribute(group, "mean", stats.mean);
    write_double_attribute(group, "std", stats.std);
    write_double_attribute(group, "absmax", stats.absmax);
    write_double_attribute(group, "kurtosis_pearson", stats.kurtosis_pearson);
    // Derived, for h5py users; read_tensor_stats ignores it.
    write_double_attribute(group, "kurtosis_excess", stats.kurtosis_excess());
    write_int_attribute(group, "count_above", stats.count_above);
    write_double_attribute(group, "outlier_value", stats.outlier_value);
    write_int_attribute(group, "zeros", stats.zeros);
    write_double_attribute(group, "outlier_k", stats.outlier_k);
    write_array(group, "histogram_edges", stats.histogram.edges);
    write_array(group, "histogram_counts", stats.histogram.counts);
    write_array(group, "log_histogram_edges", stats.log_histogram.edges);
    write_array(group, "log_histogram_counts", stats.log_histogram.counts);
    write_array(group, "in_absmax", stats.in_absmax);
    write_array(group, "in_mean_abs", stats.in_mean_abs);
    write_array(group, "out_absmax", stats.out_absmax);
    write_array(group, "out_mean_abs", stats.out_mean_abs);
    write_array(group, "outlier_channels", stats.outlier_channels);
    write_array(group, "top_channels", stats.top_channels);
}

TensorStats read_tensor_stats(hid_t group)
{
    TensorStats stats;
    stats.rows = read_int_attribute(group, "rows");
    stats.cols = read_int_attribute(group, "cols");
    stats.min = read_double_attribute(group, "min");
    stats.max = read_double_attribute(group, "max");
    stats.mean = read_double_attribute(group, "mean");
    stats.std = read_double_attribute(group, "std");
    stats.absmax = read_double_attribute(group, "absmax");
    stats.kurtosis_pearson = read_double_attribute(group, "kurtosis_pearson");
    stats.count_above = read_int_attribute(group, "count_above");
    stats.outlier_value = read_double_attribute(group, "outlier_value");
    stats.zeros = read_int_attribute(group, "zeros");
    stats.outlier_k = read_double_attribute(group, "outlier_k");
    read_array(group, "histogram_edges", stats.histogram.edges);
    read_array(group, "histogram_counts", stats.histogram.counts);
    read_array(group, "log_histogram_edges", stats.log_histogram.edges);
    read_array(group, "log_histogram_counts", stats.log_histogram.counts);
    read_array(group, "in_absmax", stats.in_absmax);
    read_array(group, "in_mean_abs", stats.in_mean_abs);
    read_array(group, "out_absmax", stats.out_absmax);
    read_array(group, "out_mean_abs", stats.out_mean_abs);
    read_array(group, "outlier_channels", stats.outlier_channels);
    read_array(group, "top_channels", stats.top_channels);
    return stats;
}

void write_linears(hid_t parent, const std::vector<LinearRecord>& linears)
{
    Handle layer_group;
    int open_layer = -1;
    for (const auto& linear : linears) {
        check_link_name(linear.module, "module name");
        if (!layer_group.valid() || linear.layer != open_layer) {
            std::string name = layer_group_name(linear.layer);
            layer_group =
                has_link(parent, name) ? open_group(parent, name) : create_group(parent, name);
            open_layer = linear.layer;
        }
        if (has_link(layer_group.get(), linear.module))
            throw H5Error("linear " + linear.module + " of layer " + std::to_string(linear.layer) +
                          " is listed twice");
        Handle group = create_group(layer_group.get(), linear.module);
        write_linear(group.get(), linear);
    }
}

std::vector<LinearRecord> read_linears(hid_t parent)
{
    std::vector<LinearRecord> linears;
    for (const auto& layer_name : child_names(parent)) {
        int layer = parse_layer_group_name(parent, layer_name);
        Handle layer_group = open_group(parent, layer_name);
        for (const auto& module : child_names(layer_group.get())) {
            Handle group = open_group(layer_group.get(), module);
            linears.push_back(read_linear(group.get(), layer, module));
        }
    }
    return linears;
}

}  // namespace qs::h5

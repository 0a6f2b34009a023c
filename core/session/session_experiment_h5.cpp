// ExperimentRecord and SessionHeader <-> HDF5 (docs/session-format.md, "Root", "Experiments").
// An experiment group's attribute complete = 1 is written after everything else, so a reader
// can tell a finished experiment from one cut short (the temp-file transaction of
// session_file.cpp already makes that impossible for our writer; the flag guards other ones).
#include <set>

#include "core/session/session_records_h5.h"

namespace qs::h5 {

namespace {

// Perplexity groups are named after the dataset label; a label that is not a valid HDF5 name
// ('/', "", ".") or repeats gets a changed name, and the exact label is the attribute "dataset".
std::string perplexity_group_name(const std::string& label, std::set<std::string>& used)
{
    std::string base = label;
    for (char& c : base) {
        if (c == '/') c = '_';
    }
    if (base.empty() || base == ".") base = "_" + base;
    std::string name = base;
    for (int repeat = 2; used.count(name); ++repeat)
        name = base + "~" + std::to_string(repeat);
    used.insert(name);
    return name;
}

void write_perplexity(hid_t experiment, const std::vector<PerplexityRecord>& records)
{
    Handle group = create_group(experiment, "perplexity");
    std::set<std::string> used;
    for (const auto& record : records) {
        Handle entry = create_group(group.get(), perplexity_group_name(record.dataset, used));
        write_string_attribute(entry.get(), "dataset", record.dataset);
        write_string_attribute(entry.get(), "path", record.path);
        write_int_attribute(entry.get(), "seqlen", record.seqlen);
        write_int_attribute(entry.get(), "windows", record.windows);
        write_double_attribute(entry.get(), "seconds", record.seconds);
        write_scalar_dataset(entry.get(), "ppl", record.ppl);
    }
}

std::vector<PerplexityRecord> read_perplexity(hid_t experiment)
{
    std::vector<PerplexityRecord> records;
    Handle group = open_group(experiment, "perplexity");
    for (const auto& name : child_names(group.get())) {
        Handle entry = open_group(group.get(), name);
        PerplexityRecord record;
        record.dataset = read_string_attribute(entry.get(), "dataset");
        record.path = read_string_attribute(entry.get(), "path");
        record.seqlen = read_int_attribute(entry.get(), "seqlen");
        record.windows = read_int_attribute(entry.get(), "windows");
        record.seconds = read_double_attribute(entry.get(), "seconds");
        record.ppl = read_scalar_dataset(entry.get(), "ppl");
        records.push_back(std::move(record));
    }
    return records;
}

void write_size(hid_t experiment, const ModelSize& size)
{
    Handle group = create_group(experiment, "size");
    write_int_attribute(group.get(), "total_bits", size.total_bits);
    write_int_attribute(group.get(), "parameters", size.parameters);
    write_int_attribute(group.get(), "linear_bits", size.linear_bits);
    write_int_attribute(group.get(), "linear_parameters", size.linear_parameters);
    // Derived, for h5py users; not read back.
    write_int_attribute(group.get(), "bytes", size.bytes());
    write_double_attribute(group.get(), "bits_per_weight", size.bits_per_weight());
    write_double_attribute(group.get(), "linear_bits_per_weight", size.linear_bits_per_weight());
}

ModelSize read_size(hid_t experiment)
{
    Handle group = open_group(experiment, "size");
    ModelSize size;
    size.total_bits = read_int_attribute(group.get(), "total_bits");
    size.parameters = read_int_attribute(group.get(), "parameters");
    size.linear_bits = read_int_attribute(group.get(), "linear_bits");
    size.linear_parameters = read_int_attribute(group.get(), "linear_parameters");
    return size;
}

void write_calibration(hid_t file, const CalibrationRecord& calibration)
{
    Handle group = create_group(file, "calibration");
    write_string_attribute(group.get(), "dataset", calibration.dataset);
    write_int_attribute(group.get(), "samples", calibration.samples);
    write_int_attribute(group.get(), "seqlen", calibration.seqlen);
    write_uint_attribute(group.get(), "seed", calibration.seed);
}

CalibrationRecord read_calibration(hid_t file)
{
    Handle group = open_group(file, "calibration");
    CalibrationRecord calibration;
    calibration.dataset = read_string_attribute(group.get(), "dataset");
    calibration.samples = read_int_attribute(group.get(), "samples");
    calibration.seqlen = read_int_attribute(group.get(), "seqlen");
    calibration.seed = read_uint_attribute(group.get(), "seed");
    return calibration;
}

}  // namespace

void write_experiment(hid_t experiments, const ExperimentRecord& experiment)
{
    check_link_name(experiment.id, "experiment id");
    Handle group = create_group(experiments, experiment.id);
    write_string_attribute(group.get(), "name", experiment.name);
    write_string_attribute(group.get(), "recipe_yaml", experiment.recipe_yaml);
    write_string_attribute(group.get(), "created", experiment.created);
    write_double_attribute(group.get(), "quantize_seconds", experiment.quantize_seconds);
    write_array(group.get(), "warnings", experiment.warnings);
    write_array(group.get(), "notes", experiment.notes);
    write_perplexity(group.get(), experiment.perplexity);
    write_size(group.get(), experiment.size);
    {
        Handle depth = create_group(group.get(), "depth");
        write_array(depth.get(), "cosine", experiment.depth.cosine);
        write_array(depth.get(), "mse", experiment.depth.mse);
    }
    {
        Handle layers = create_group(group.get(), "layers");
        write_linears(layers.get(), experiment.linears);
    }
    write_int_attribute(group.get(), "complete", 1);
}

bool is_complete_experiment(hid_t experiments, const std::string& id)
{
    Handle group = open_group(experiments, id);
    return has_attribute(group.get(), "complete") &&
           read_int_attribute(group.get(), "complete") == 1;
}

ExperimentRecord read_experiment(hid_t experiments, const std::string& id)
{
    Handle group = open_group(experiments, id);
    ExperimentRecord experiment;
    experiment.id = id;
    experiment.name = read_string_attribute(group.get(), "name");
    experiment.recipe_yaml = read_string_attribute(group.get(), "recipe_yaml");
    experiment.created = read_string_attribute(group.get(), "created");
    experiment.quantize_seconds = read_double_attribute(group.get(), "quantize_seconds");
    read_array(group.get(), "warnings", experiment.warnings);
    read_array(group.get(), "notes", experiment.notes);
    experiment.perplexity = read_perplexity(group.get());
    experiment.size = read_size(group.get());
    {
        Handle depth = open_group(group.get(), "depth");
        read_array(depth.get(), "cosine", experiment.depth.cosine);
        read_array(depth.get(), "mse", experiment.depth.mse);
    }
    {
        Handle layers = open_group(group.get(), "layers");
        experiment.linears = read_linears(layers.get());
    }
    return experiment;
}

void write_header(hid_t file, const SessionHeader& header)
{
    write_string_attribute(file, "format", kSessionFormat);
    write_int_attribute(file, "schema_version", kSessionSchemaVersion);
    write_string_attribute(file, "quantscope_version", header.quantscope_version);
    write_string_attribute(file, "created", header.created);
    write_string_attribute(file, "model_path", header.model_path);
    write_string_attribute(file, "model_config_sha256", header.model_config_sha256);
    write_string_attribute(file, "architecture", header.architecture);
    write_int_attribute(file, "num_layers", header.num_layers);
    write_int_attribute(file, "hidden_size", header.hidden_size);
    write_string_attribute(file, "compute_dtype", header.compute_dtype);
    write_calibration(file, header.calibration);
}

SessionHeader read_header(hid_t file)
{
    SessionHeader header;
    header.schema_version = read_int32_attribute(file, "schema_version");
    header.quantscope_version = read_string_attribute(file, "quantscope_version");
    header.created = read_string_attribute(file, "created");
    header.model_path = read_string_attribute(file, "model_path");
    header.model_config_sha256 = read_string_attribute(file, "model_config_sha256");
    header.architecture = read_string_attribute(file, "architecture");
    header.num_layers = read_int32_attribute(file, "num_layers");
    header.hidden_size = read_int_attribute(file, "hidden_size");
    // Sessions written before the compute dtype was recorded ran in float32.
    if (has_attribute(file, "compute_dtype"))
        header.compute_dtype = read_string_attribute(file, "compute_dtype");
    header.calibration = read_calibration(file);
    return header;
}

}  // namespace qs::h5

// The HDF5 session file (core/session/session_file.h): an exact round trip of every record field
// (doubles compared bit for bit, empty vectors and maps included), errors that name the file,
// the documented layout as h5ls/h5dump see it, and crash safety: a child process appending in
// a loop is SIGKILLed at several moments and the session must still hold every experiment
// whose append returned, each intact.
#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "core/session/session_file.h"
#include "core/util/error.h"
#include "tests/core/test_support.h"

// Raw HDF5, only to make files our writer never would (not a session, a newer schema, an
// experiment without its completion flag). qs_core links libhdf5; its headers are private.
#if __has_include(<hdf5.h>)
#include <hdf5.h>
#define QS_TEST_HAVE_HDF5 1
#elif __has_include(<hdf5/serial/hdf5.h>)
#include <hdf5/serial/hdf5.h>
#define QS_TEST_HAVE_HDF5 1
#endif

namespace {

using namespace qs;

// --- a canonical dump of every field, doubles and floats as bit patterns --------------------

void put(std::string& out, double v)
{
    out += std::to_string(std::bit_cast<std::uint64_t>(v)) + ' ';
}
void put(std::string& out, float v)
{
    out += std::to_string(std::bit_cast<std::uint32_t>(v)) + ' ';
}
void put(std::string& out, std::int64_t v)
{
    out += std::to_string(v) + ' ';
}
void put(std::string& out, std::uint64_t v)
{
    out += std::to_string(v) + "u ";
}
void put(std::string& out, std::int32_t v)
{
    out += std::to_string(v) + ' ';
}
void put(std::string& out, const std::string& s)
{
    out += std::to_string(s.size()) + ':' + s + ' ';
}
void put(std::string& out, const LinearRecord& l);
void put(std::string& out, const PerplexityRecord& p);
void put(std::string& out, const ExperimentRecord& e);
template <typename T>
void put(std::string& out, const std::vector<T>& values)
{
    out += "[" + std::to_string(values.size()) + ' ';
    for (const auto& v : values)
        put(out, v);
    out += "] ";
}
void put(std::string& out, const TensorStats& s)
{
    for (double v :
         {s.min, s.max, s.mean, s.std, s.absmax, s.kurtosis_pearson, s.outlier_value, s.outlier_k})
        put(out, v);
    for (std::int64_t v : {s.rows, s.cols, s.count_above, s.zeros})
        put(out, v);
    for (const auto* v :
         {&s.histogram.edges, &s.histogram.counts, &s.log_histogram.edges, &s.log_histogram.counts})
        put(out, *v);
    for (const auto* v : {&s.in_absmax, &s.in_mean_abs, &s.out_absmax, &s.out_mean_abs})
        put(out, *v);
    put(out, s.outlier_channels);
    put(out, s.top_channels);
}
void put(std::string& out, const std::map<std::string, TensorStats>& by_stage)
{
    out += "{" + std::to_string(by_stage.size()) + ' ';
    for (const auto& [stage, stats] : by_stage) {
        put(out, stage);
        put(out, stats);
    }
    out += "} ";
}
void put(std::string& out, const LinearRecord& l)
{
    put(out, std::int64_t(l.layer));
    put(out, l.module);
    put(out, l.out_features);
    put(out, l.in_features);
    put(out, l.weight_stats);
    put(out, l.activation_stats);
    put(out, l.method);
    for (double v : {l.weight_relative_mse, l.output_mse, l.output_sqnr_db, l.output_cosine,
                     l.gptq_total_error})
        put(out, v);
    put(out, l.storage_bits);
    put(out, l.gptq_column_error);
    put(out, l.gptq_perm);
    put(out, l.gptq_g_idx);
    put(out, l.hessian_diag);
    put(out, std::int64_t(l.group_size));
}
void put(std::string& out, const PerplexityRecord& p)
{
    put(out, p.dataset);
    put(out, p.path);
    put(out, p.seqlen);
    put(out, p.windows);
    put(out, p.ppl);
    put(out, p.seconds);
}
void put(std::string& out, const ExperimentRecord& e)
{
    for (const auto* s : {&e.id, &e.name, &e.recipe_yaml, &e.created})
        put(out, *s);
    put(out, e.quantize_seconds);
    put(out, e.perplexity);
    for (std::int64_t v :
         {e.size.total_bits, e.size.parameters, e.size.linear_bits, e.size.linear_parameters})
        put(out, v);
    put(out, e.depth.cosine);
    put(out, e.depth.mse);
    put(out, e.linears);
    put(out, e.warnings);
    put(out, e.notes);
}
void put(std::string& out, const SessionData& d)
{
    const SessionHeader& h = d.header;
    put(out, std::int64_t(h.schema_version));
    for (const auto* s : {&h.quantscope_version, &h.created, &h.model_path, &h.model_config_sha256,
                          &h.architecture, &h.calibration.dataset, &h.compute_dtype})
        put(out, *s);
    put(out, std::int64_t(h.num_layers));
    put(out, h.hidden_size);
    put(out, h.calibration.samples);
    put(out, h.calibration.seqlen);
    put(out, h.calibration.seed);
    put(out, d.baseline);
    put(out, d.experiments);
}

template <typename T>
std::string dump(const T& value)
{
    std::string out;
    put(out, value);
    return out;
}

// Equal dumps, or a failure showing where they first differ.
template <typename T>
void expect_same(const T& expected, const T& actual)
{
    std::string a = dump(expected), b = dump(actual);
    if (a == b) return;
    std::size_t at = 0;
    while (at < a.size() && at < b.size() && a[at] == b[at])
        ++at;
    std::size_t from = at > 80 ? at - 80 : 0;
    ADD_FAILURE() << "records differ at dump offset " << at << "\n  expected ..."
                  << a.substr(from, 160) << "\n  actual   ..." << b.substr(from, 160);
}

// --- rich records: every field non-default ---------------------------------------------------

class Values {
public:
    explicit Values(std::uint64_t seed) : m_rng(seed) {}
    double real() { return std::uniform_real_distribution<double>(-3, 3)(m_rng); }
    std::vector<double> reals(std::size_t n)
    {
        std::vector<double> v(n);
        for (auto& x : v)
            x = real();
        return v;
    }
    std::vector<float> floats(std::size_t n)
    {
        std::vector<float> v(n);
        for (auto& x : v)
            x = static_cast<float>(real());
        return v;
    }
    template <typename Int>
    std::vector<Int> ints(std::size_t n)
    {
        std::vector<Int> v(n);
        for (auto& x : v)
            x = static_cast<Int>(m_rng() % 100000) - 50000;
        return v;
    }

private:
    std::mt19937_64 m_rng;
};

TensorStats make_stats(std::uint64_t seed, std::int64_t rows, std::int64_t cols, bool weight)
{
    Values r(seed);
    TensorStats s;
    s.rows = rows;
    s.cols = cols;
    s.min = r.real();
    s.max = r.real();
    s.mean = 1.0 / 3.0;
    s.std = std::numeric_limits<double>::denorm_min();
    s.absmax = r.real();
    s.kurtosis_pearson = seed % 3 == 0 ? std::numeric_limits<double>::quiet_NaN() : r.real();
    s.count_above = 12 + std::int64_t(seed);
    s.outlier_value = 6.5;
    s.histogram = {r.reals(9), r.reals(8)};
    s.log_histogram = {r.reals(5), r.reals(4)};
    s.zeros = 3;
    s.in_absmax = r.floats(std::size_t(cols));
    s.in_mean_abs = r.floats(std::size_t(cols));
    if (weight) {  // activations keep out_* empty
        s.out_absmax = r.floats(std::size_t(rows));
        s.out_mean_abs = r.floats(std::size_t(rows));
    }
    s.outlier_k = -0.0;
    s.outlier_channels = {1, 5, 9};
    s.top_channels = r.ints<std::int32_t>(4);
    return s;
}

LinearRecord make_linear(int layer, const std::string& module, std::uint64_t seed, std::int64_t in,
                         bool gptq, const std::vector<std::string>& stages)
{
    Values r(seed);
    LinearRecord l;
    l.layer = layer;
    l.module = module;
    l.out_features = 24;
    l.in_features = in;
    for (std::size_t i = 0; i < stages.size(); ++i) {
        l.weight_stats[stages[i]] = make_stats(seed * 10 + i, l.out_features, in, true);
        l.activation_stats[stages[i]] = make_stats(seed * 10 + i + 5, 1000, in, false);
    }
    l.method = gptq ? "gptq" : "rtn";
    l.weight_relative_mse = r.real();
    l.output_mse = r.real();
    l.output_sqnr_db = std::numeric_limits<double>::infinity();
    l.output_cosine = r.real();
    l.storage_bits = (std::int64_t(1) << 40) + 7;
    l.group_size = 128;
    if (gptq) {  // otherwise the GPTQ vectors stay empty
        l.gptq_total_error = r.real();
        l.gptq_column_error = r.floats(std::size_t(in));
        l.gptq_perm = r.ints<std::int64_t>(std::size_t(in));
        l.gptq_g_idx = r.ints<std::int32_t>(std::size_t(in));
        l.hessian_diag = r.floats(std::size_t(in));
    }
    return l;
}

ExperimentRecord make_experiment(int index)
{
    Values r(1000 + index);
    ExperimentRecord e;
    char id[16];
    std::snprintf(id, sizeof id, "exp-%04d", index);
    e.id = id;
    e.name = "int4-gptq-g128 #" + std::to_string(index);
    e.recipe_yaml = "name: int4\nmethod: gptq\nweights: {bits: 4, group_size: 128}\n# µ ✓\n";
    e.created = "2025-01-0" + std::to_string(index) + "T12:00:00Z";
    e.quantize_seconds = r.real();
    // A label with '/', and a repeated label: names in the file change, labels must not.
    e.perplexity = {{"wikitext2", "/data/wikitext2/test.txt", 2048, 141, 5.6789, r.real()},
                    {"c4/en", "c4.txt", 512, 9, r.real(), 1.5},
                    {"wikitext2", "other.txt", 128, 3, r.real(), 0.25}};
    e.size = {123456789012, 1100048384, 98765432109, 6476005376};
    e.depth = {r.reals(12), r.reals(12)};
    std::vector<std::string> stages = {"awq", "input", "quantized"};
    for (int layer = 0; layer < 2; ++layer) {
        for (const char* module : {"self_attn.q_proj", "self_attn.o_proj", "mlp.down_proj"})
            e.linears.push_back(make_linear(layer, module,
                                            index * 100 + layer * 10 + e.linears.size(),
                                            layer == 1 && index == 1 ? 5000 : 40,
                                            std::string(module) != "self_attn.o_proj", stages));
    }
    e.linears.push_back(make_linear(2, "mlp.up_proj", 7, 16, false, {}));  // empty stage maps
    e.warnings = {"layer 3: Hessian not positive definite, damping raised", ""};
    if (index % 2) e.notes = {"first note", "second note ✓"};  // even: empty notes
    return e;
}

SessionHeader make_header()
{
    SessionHeader h;
    h.quantscope_version = "0.1.0";
    h.created = "2025-01-01T10:00:00Z";
    h.model_path = "/models/Llama-3.2-1B";
    h.model_config_sha256 = std::string(64, 'a');
    h.architecture = "LlamaForCausalLM";
    h.num_layers = 16;
    h.hidden_size = 2048;
    h.calibration = {"wikitext2", 128, 2048, 0xfedcba9876543210ull};
    h.compute_dtype = "bf16";  // not the default, so the round trip must carry it
    return h;
}

std::vector<LinearRecord> make_baseline(std::uint64_t seed)
{
    std::vector<LinearRecord> baseline;
    for (int layer = 0; layer < 3; ++layer) {
        for (const char* module : {"self_attn.q_proj", "mlp.gate_proj"}) {
            LinearRecord l =
                make_linear(layer, module, seed + baseline.size(), 32, false, {"original"});
            l.method.clear();
            baseline.push_back(std::move(l));
        }
    }
    return baseline;
}

template <typename Call>
std::string error_of(Call&& call)
{
    try {
        call();
    } catch (const QsError& error) {
        return error.what();
    }
    return "(no QsError)";
}

int count_temp_files(const std::string& directory)
{
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(directory))
        count += entry.path().filename().string().find(".tmp-") != std::string::npos;
    return count;
}

std::string run_tool(const std::string& command)
{
    std::string output;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return output;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe))
        output.append(buffer, n);
    ::pclose(pipe);
    return output;
}

}  // namespace

TEST(SessionFile, RoundTripKeepsEveryField)
{
    test::TempDir dir;
    const std::string path = dir.file("study.h5");
    SessionData expected;
    expected.header = make_header();
    create_session(path, expected.header);
    write_baseline(path, make_baseline(1));
    expected.baseline = make_baseline(2);
    write_baseline(path, expected.baseline);  // replaces the first one
    for (int index = 1; index <= 3; ++index) {
        expected.experiments.push_back(make_experiment(index));
        append_experiment(path, expected.experiments.back());
    }
    ExperimentRecord bare;  // every vector and map empty
    bare.id = "exp-0004";
    expected.experiments.push_back(bare);
    append_experiment(path, bare);

    SessionData actual = read_session(path);
    ASSERT_EQ(actual.experiments.size(), 4u);
    EXPECT_EQ(actual.header.schema_version, 1);
    EXPECT_EQ(actual.experiments[0].perplexity[1].dataset, "c4/en");
    expect_same(expected, actual);

    auto listed = list_experiments(path);
    ASSERT_EQ(listed.size(), 4u);
    EXPECT_EQ(listed[2], std::make_pair(std::string("exp-0003"), expected.experiments[2].name));
    EXPECT_EQ(next_experiment_id(path), "exp-0005");
    EXPECT_EQ(count_temp_files(dir.path()), 0);
}

TEST(SessionFile, NewSessionIsEmptyAndNextIdIsFirst)
{
    test::TempDir dir;
    const std::string path = dir.file("new.h5");
    create_session(path, make_header());
    SessionData data = read_session(path);
    EXPECT_TRUE(data.baseline.empty());
    EXPECT_TRUE(data.experiments.empty());
    EXPECT_TRUE(list_experiments(path).empty());
    EXPECT_EQ(next_experiment_id(path), "exp-0001");
}

TEST(SessionFile, CreateOverExistingFileNeedsOverwrite)
{
    test::TempDir dir;
    const std::string path = dir.file("existing.h5");
    create_session(path, make_header());
    append_experiment(path, make_experiment(1));
    std::string message = error_of([&] { create_session(path, make_header()); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("exists"), std::string::npos) << message;
    EXPECT_EQ(read_session(path).experiments.size(), 1u);  // untouched

    create_session(path, make_header(), /*overwrite=*/true);
    EXPECT_TRUE(read_session(path).experiments.empty());
    EXPECT_EQ(count_temp_files(dir.path()), 0);
}

TEST(SessionFile, DuplicateExperimentIdIsRefused)
{
    test::TempDir dir;
    const std::string path = dir.file("dup.h5");
    create_session(path, make_header());
    append_experiment(path, make_experiment(1));
    ExperimentRecord again = make_experiment(2);
    again.id = "exp-0001";
    std::string message = error_of([&] { append_experiment(path, again); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("exp-0001"), std::string::npos) << message;
    ExperimentRecord slash = make_experiment(3);
    slash.id = "exp/3";
    message = error_of([&] { append_experiment(path, slash); });
    EXPECT_NE(message.find(path), std::string::npos) << message;

    SessionData data = read_session(path);
    ASSERT_EQ(data.experiments.size(), 1u);
    expect_same(make_experiment(1), data.experiments[0]);
    EXPECT_EQ(count_temp_files(dir.path()), 0);  // failed transactions clean up
}

TEST(SessionFile, BadFilesGiveErrorsNamingTheFile)
{
    test::TempDir dir;
    auto expect_named = [](const std::string& path, const std::string& problem) {
        for (const std::string& message :
             {error_of([&] { read_session(path); }), error_of([&] { list_experiments(path); }),
              error_of([&] { append_experiment(path, make_experiment(1)); })}) {
            EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
            EXPECT_NE(message.find(problem), std::string::npos) << message;
        }
    };
    expect_named(dir.file("missing.h5"), "no such file");
    const std::string text = dir.file("notes.txt");
    std::ofstream(text) << "this is not HDF5\n";
    expect_named(text, "not an HDF5 file");
    std::ofstream(dir.file("empty.h5"));
    expect_named(dir.file("empty.h5"), "not an HDF5 file");
#ifdef QS_TEST_HAVE_HDF5
    const std::string plain = dir.file("plain.h5");
    H5Fclose(H5Fcreate(plain.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    expect_named(plain, "not a QuantScope session");

    const std::string future = dir.file("future.h5");
    create_session(future, make_header());
    {
        hid_t file = H5Fopen(future.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
        hid_t attribute = H5Aopen(file, "schema_version", H5P_DEFAULT);
        std::int64_t version = 99;
        H5Awrite(attribute, H5T_NATIVE_INT64, &version);
        H5Aclose(attribute);
        H5Fclose(file);
    }
    expect_named(future, "schema version 99");
#endif
    EXPECT_EQ(count_temp_files(dir.path()), 0);
}

#ifdef QS_TEST_HAVE_HDF5
TEST(SessionFile, ExperimentWithoutCompletionFlagIsSkipped)
{
    test::TempDir dir;
    const std::string path = dir.file("partial.h5");
    create_session(path, make_header());
    append_experiment(path, make_experiment(1));
    append_experiment(path, make_experiment(2));
    {  // as another writer cut short would leave it
        hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
        H5Adelete_by_name(file, "experiments/exp-0001", "complete", H5P_DEFAULT);
        H5Fclose(file);
    }
    SessionData data = read_session(path);
    ASSERT_EQ(data.experiments.size(), 1u);
    EXPECT_EQ(data.experiments[0].id, "exp-0002");
    ASSERT_EQ(list_experiments(path).size(), 1u);
    EXPECT_EQ(next_experiment_id(path), "exp-0003");
    EXPECT_NE(error_of([&] { append_experiment(path, make_experiment(1)); }).find("exp-0001"),
              std::string::npos);
}
#endif

TEST(SessionFile, ReaderAndWriterLeaveOthersTempFilesAlone)
{
    test::TempDir dir;
    const std::string path = dir.file("study.h5");
    create_session(path, make_header());
    const std::string stray = path + ".tmp-AbC123";  // a crashed writer's leftover
    std::ofstream(stray) << "half a file";
    append_experiment(path, make_experiment(1));
    EXPECT_EQ(read_session(path).experiments.size(), 1u);
    EXPECT_TRUE(std::filesystem::exists(stray));
    EXPECT_EQ(count_temp_files(dir.path()), 1);
}

TEST(SessionFile, ConcurrentWritersAndReadersLoseNothing)
{
    test::TempDir dir;
    const std::string path = dir.file("threads.h5");
    create_session(path, make_header());
    std::atomic<int> failures{0};
    auto guarded = [&](auto&& body) {
        return std::thread([&failures, body] {
            try {
                body();
            } catch (const std::exception& error) {
                ADD_FAILURE() << error.what();
                ++failures;
            }
        });
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t)  // two writers: the directory lock orders their transactions
        threads.push_back(guarded([&path, t] {
            for (int i = 1; i <= 3; ++i)
                append_experiment(path, make_experiment(t * 3 + i));
        }));
    threads.push_back(guarded([&path] {
        for (int i = 0; i < 20; ++i)
            list_experiments(path);
    }));
    for (auto& thread : threads)
        thread.join();
    ASSERT_EQ(failures, 0);
    SessionData data = read_session(path);
    ASSERT_EQ(data.experiments.size(), 6u);
    std::sort(data.experiments.begin(), data.experiments.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    for (int i = 0; i < 6; ++i)
        expect_same(make_experiment(i + 1), data.experiments[i]);
}

TEST(SessionFile, H5lsListsTheDocumentedPaths)
{
    if (!std::filesystem::exists("/usr/bin/h5ls") || !std::filesystem::exists("/usr/bin/h5dump"))
        GTEST_SKIP() << "h5ls/h5dump not installed (hdf5-tools)";
    test::TempDir dir;
    const std::string path = dir.file("layout.h5");
    create_session(path, make_header());
    write_baseline(path, make_baseline(1));
    append_experiment(path, make_experiment(1));
    std::string listing = run_tool("/usr/bin/h5ls -r '" + path + "' 2>&1");
    const std::string lin = "/experiments/exp-0001/layers/layer_000/self_attn.q_proj";
    for (const std::string& expected :
         {std::string("/calibration "), std::string("/baseline/layer_000/self_attn.q_proj "),
          std::string("/baseline/layer_002/mlp.gate_proj/weight_stats/original/in_absmax "),
          std::string("/experiments/exp-0001/perplexity/wikitext2/ppl "),
          std::string("/experiments/exp-0001/perplexity/c4_en/ppl "),
          std::string("/experiments/exp-0001/perplexity/wikitext2~2/ppl "),
          std::string("/experiments/exp-0001/size "),
          std::string("/experiments/exp-0001/depth/cosine "),
          std::string("/experiments/exp-0001/depth/mse "),
          std::string("/experiments/exp-0001/warnings "),
          std::string("/experiments/exp-0001/notes "), lin + "/gptq_column_error ",
          lin + "/gptq_perm ", lin + "/gptq_g_idx ", lin + "/hessian_diag ",
          lin + "/weight_stats/quantized/histogram_edges ", lin + "/weight_stats/awq/out_absmax ",
          lin + "/activation_stats/input/in_mean_abs ",
          lin + "/activation_stats/input/top_channels "})
        EXPECT_NE(listing.find(expected), std::string::npos) << expected << "\n" << listing;
    // Arrays are written only when non-empty: activations have no out_* statistics.
    EXPECT_EQ(listing.find(lin + "/activation_stats/input/out_absmax "), std::string::npos);
    EXPECT_EQ(listing.find("/experiments/exp-0001/layers/layer_000/self_attn.o_proj/gptq_perm "),
              std::string::npos);

    std::string format = run_tool("/usr/bin/h5dump -a /format '" + path + "' 2>&1");
    EXPECT_NE(format.find("\"quantscope-session\""), std::string::npos) << format;
    std::string complete =
        run_tool("/usr/bin/h5dump -a /experiments/exp-0001/complete '" + path + "' 2>&1");
    EXPECT_NE(complete.find("(0): 1"), std::string::npos) << complete;
    std::string ppl = run_tool(
        "/usr/bin/h5dump -d /experiments/exp-0001/perplexity/wikitext2/ppl '" + path + "' 2>&1");
    EXPECT_NE(ppl.find("5.6789"), std::string::npos) << ppl;
}

// --- crash safety ------------------------------------------------------------------------------

namespace {

// 200 linears with 4096-element GPTQ column errors (about 4 MB): each append takes tens of
// milliseconds, so the kills land before, during and between appends.
ExperimentRecord make_large_experiment(int index)
{
    static const ExperimentRecord base = [] {
        ExperimentRecord e = make_experiment(1);
        e.linears.clear();
        for (int layer = 0; layer < 25; ++layer) {
            for (int m = 0; m < 8; ++m) {
                LinearRecord l = make_linear(layer, "proj_" + std::to_string(m),
                                             std::uint64_t(layer * 8 + m), 16, false, {});
                l.gptq_column_error = Values(std::uint64_t(m)).floats(4096);
                e.linears.push_back(std::move(l));
            }
        }
        return e;
    }();
    ExperimentRecord e = base;
    char id[16];
    std::snprintf(id, sizeof id, "exp-%04d", index);
    e.id = id;
    e.name = "large " + std::to_string(index);
    return e;
}

}  // namespace

TEST(SessionFile, SigkillDuringAppendKeepsEveryCompletedExperiment)
{
    test::TempDir dir;
    make_large_experiment(1);  // build the template before forking
    // Kills timed from the fork (during the first append, or its copy) and from the moment the
    // first append returned (at several points of the second one), whatever the machine's speed.
    struct Trial {
        bool after_first_append;
        int delay_ms;
    };
    const Trial trials[] = {{false, 5}, {false, 30}, {true, 0}, {true, 15}, {true, 35}, {true, 70}};
    for (const Trial& trial : trials) {
        const std::string when = std::to_string(trial.delay_ms) + " ms after " +
                                 (trial.after_first_append ? "the first append" : "the start");
        const std::string path = dir.file("crash-" + std::to_string(&trial - trials) + ".h5");
        create_session(path, make_header());
        int report[2];
        ASSERT_EQ(::pipe(report), 0);
        pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {  // append until killed; report each index once its append returned
            ::close(report[0]);
            for (int index = 1; index < 10000; ++index) {
                try {
                    append_experiment(path, make_large_experiment(index));
                } catch (...) {
                    ::_exit(2);
                }
                if (::write(report[1], &index, sizeof index) != sizeof index) ::_exit(3);
            }
            ::_exit(0);
        }
        ::close(report[1]);
        std::vector<int> completed;
        int index = 0;
        if (trial.after_first_append && ::read(report[0], &index, sizeof index) == sizeof index)
            completed.push_back(index);
        std::this_thread::sleep_for(std::chrono::milliseconds(trial.delay_ms));
        ::kill(child, SIGKILL);
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
        while (::read(report[0], &index, sizeof index) == sizeof index)
            completed.push_back(index);
        ::close(report[0]);
        if (trial.after_first_append) {
            EXPECT_FALSE(completed.empty()) << when;
        }

        SessionData data;
        ASSERT_NO_THROW(data = read_session(path)) << "SIGKILL " << when;
        ASSERT_GE(data.experiments.size(), completed.size()) << when;
        ASSERT_LE(data.experiments.size(), completed.size() + 1) << when;
        for (std::size_t i = 0; i < data.experiments.size(); ++i)
            expect_same(make_large_experiment(int(i) + 1), data.experiments[i]);
        std::printf("[ crash    ] SIGKILL %s: %zu appends returned, %zu in the file\n",
                    when.c_str(), completed.size(), data.experiments.size());
    }
}

// quantscope-cli: the command-line face of qs_core (no Qt).
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <c10/util/Exception.h>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/util/error.h"
#include "core/util/threading.h"

namespace {

const char* kUsage =
    "usage: quantscope-cli <command> [options]\n"
    "\n"
    "commands:\n"
    "  info      --model DIR                       architecture, layers, linear shapes, "
    "parameters\n"
    "  generate  --model DIR --prompt TEXT         greedy generation\n"
    "  eval      --model DIR --dataset FILE        perplexity (GPTQ protocol)\n"
    "  quantize  --model DIR --out DIR --recipe F  RTN/GPTQ/AWQ/SmoothQuant, layer by layer\n"
    "  export    --model DIR --recipe F --format X  gptq, awq, compressed-tensors, mx (--out)\n"
    "  sweep     --model DIR --grid F --session S  a grid of recipes into an HDF5 session\n"
    "  report    --session S                       experiments, sizes, ppl, Pareto frontier\n"
    "  synth     --out DIR [--preset P]            random-initialised Llama of real shapes\n"
    "  import    --in PATH --out DIR               dequantize a GPTQ/AWQ/GGUF checkpoint\n"
    "\n"
    "  quantscope-cli <command> --help   options of one command\n"
    "  quantscope-cli --version\n";

}  // namespace

int main(int argc, char** argv)
{
    qs::reexec_with_passive_openmp_wait(argv);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::cout << kUsage;
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        qs::configure_threads();
        std::cout << "quantscope-cli " << QS_VERSION << " (" << qs::runtime_summary() << ")\n";
        return 0;
    }
    const std::string command = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    try {
        qs::configure_threads();
        if (command == "info") return qs::cli::run_info(rest);
        if (command == "generate") return qs::cli::run_generate(rest);
        if (command == "eval") return qs::cli::run_eval(rest);
        if (command == "quantize") return qs::cli::run_quantize(rest);
        if (command == "export") return qs::cli::run_export(rest);
        if (command == "sweep") return qs::cli::run_sweep(rest);
        if (command == "report") return qs::cli::run_report(rest);
        if (command == "synth") return qs::cli::run_synth(rest);
        if (command == "import") return qs::cli::run_import(rest);
        std::cerr << "quantscope-cli: unknown command '" << command << "'\n\n" << kUsage;
        return 2;
    } catch (const qs::cli::UsageError& e) {
        std::cerr << "quantscope-cli " << command << ": " << e.what() << " (see --help)\n";
        return 2;
    } catch (const qs::QsError& e) {
        std::cerr << "quantscope-cli: error: " << e.what() << "\n";
        return 1;
    } catch (const qs::CancelledError&) {
        std::cerr << "quantscope-cli: cancelled\n";
        return 130;
    } catch (const c10::Error& e) {
        std::cerr << "quantscope-cli: internal tensor error: " << e.what_without_backtrace()
                  << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "quantscope-cli: error: " << e.what() << "\n";
        return 1;
    }
}

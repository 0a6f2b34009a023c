// quantscope-cli: the command-line face of qs_core (no Qt).
#include <iostream>
#include <string>
#include <vector>

#include <c10/util/Exception.h>

#include "app/cli/cli_args.h"
#include "app/cli/commands.h"
#include "core/util/error.h"
#include "core/util/threading.h"

namespace {

using Runner = int (*)(const std::vector<std::string>&);

struct Command {
    const char* name;
    Runner run;
};

const Command kCommands[] = {
    {"info", qs::cli::run_info},     {"generate", qs::cli::run_generate},
    {"eval", qs::cli::run_eval},     {"quantize", qs::cli::run_quantize},
    {"export", qs::cli::run_export}, {"import", qs::cli::run_import},
    {"sweep", qs::cli::run_sweep},   {"report", qs::cli::run_report},
    {"synth", qs::cli::run_synth},
};

const char* kUsage =
    "usage: quantscope-cli <command> [options]\n"
    "       quantscope-cli <command> --help\n"
    "       quantscope-cli --version\n"
    "\n"
    "Inspects, evaluates, quantizes and exports LLM checkpoints (Hugging Face folders) and runs\n"
    "quantization studies into HDF5 sessions that the GUI, quantscope, opens.\n"
    "\n"
    "commands:\n"
    "  info      architecture, layers, linear shapes and parameter count of a model\n"
    "  generate  greedy text generation from a prompt\n"
    "  eval      perplexity on a text file (GPTQ protocol)\n"
    "  quantize  quantize a model with a recipe (RTN, GPTQ, AWQ, SmoothQuant) into a checkpoint\n"
    "  export    quantized checkpoint for other tools: gptq, awq, compressed-tensors, mx, gguf\n"
    "  import    dequantize a GPTQ / AWQ / compressed-tensors / MX checkpoint or a GGUF file\n"
    "  sweep     run a grid of recipes into an HDF5 session\n"
    "  report    table and CSV of a session: sizes, perplexities, Pareto frontier\n"
    "  synth     write a random-initialised Llama of real shapes (optionally with outliers)\n"
    "  help      the help of one command: quantscope-cli help <command>\n"
    "\n"
    "options:\n"
    "  --help, -h                this help\n"
    "  --version                 version, torch version, threads and BLAS library\n"
    "\n"
    "Results go to stdout, progress and errors to stderr. Exit status: 0 done, 1 error (one\n"
    "line naming the file and the problem), 2 bad command line, 130 cancelled.\n"
    "Environment: QS_THREADS (torch threads, default: every core); OMP_WAIT_POLICY (set to\n"
    "passive unless given). Recipes: docs/recipes.md; checkpoint formats:\n"
    "docs/checkpoint-formats.md.\n"
    "\n"
    "examples:\n"
    "  quantscope-cli info --model ../shared/models/stories260K/hf\n"
    "  quantscope-cli quantize --model ../shared/models/stories260K/hf --out /tmp/q \\\n"
    "      --recipe resources/recipes/gptq-w4g128.yaml\n";

std::string command_list()
{
    std::string out;
    for (const auto& c : kCommands)
        out += (out.empty() ? "" : ", ") + std::string(c.name);
    return out;
}

const Command* find_command(const std::string& name)
{
    for (const auto& c : kCommands)
        if (name == c.name) return &c;
    return nullptr;
}

int unknown_command(const std::string& name)
{
    std::vector<std::string> names;
    for (const auto& c : kCommands)
        names.push_back(c.name);
    const std::string near = name.rfind("-", 0) == 0 ? "" : qs::cli::closest_name(name, names);
    std::cerr << "quantscope-cli: unknown " << (name.rfind("-", 0) == 0 ? "option" : "command")
              << " '" << name << "'" << (near.empty() ? "" : " (did you mean '" + near + "'?)")
              << "; commands: " << command_list() << "; run 'quantscope-cli --help'\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv)
{
    qs::reexec_with_passive_openmp_wait(argv);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::cerr << kUsage;
        return 2;
    }
    if (args[0] == "--help" || args[0] == "-h") {
        std::cout << kUsage;
        return 0;
    }
    if (args[0] == "--version") {
        qs::configure_threads();
        std::cout << "quantscope-cli " << QS_VERSION << " (" << qs::runtime_summary() << ")\n";
        return 0;
    }
    std::string command = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "help") {  // "help <command>" is "<command> --help"
        if (rest.empty()) {
            std::cout << kUsage;
            return 0;
        }
        command = rest[0];
        rest = {"--help"};
    }
    const Command* found = find_command(command);
    if (!found) return unknown_command(command);
    try {
        qs::configure_threads();
        return found->run(rest);
    } catch (const qs::cli::UsageError& e) {
        std::cerr << "quantscope-cli " << command << ": " << e.what() << "; run 'quantscope-cli "
                  << command << " --help' for the options\n";
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

// `quantscope --export-figures FILE.h5 --out DIR [options]`: writes a session's figures without
// showing a window. Reads the session into a SessionModel, builds the views hidden, selects an
// experiment (default: the quantized experiment with the lowest perplexity) and exports with
// widgets/figure_export.h:
//   pareto-<dataset> (one per dataset), depth-error, kurtosis-weights, kurtosis-activations,
//   and for the linear with the largest GPTQ error of that experiment (else the lowest output
//   SQNR): gptq-column-error-..., histogram-{weights,activations}-...,
//   channel-absmax-{weights,activations}-...
// Each written file is printed on stdout. Errors (missing session, bad option, unwritable
// folder) print one line naming the file or option on stderr and exit non-zero.
#pragma once

namespace qs::gui {

// True when the command line asks for the figure export (an argument "--export-figures").
bool isExportFiguresCall(int argc, char** argv);

// Runs the export with its own QApplication (the offscreen platform unless QT_QPA_PLATFORM is
// set). Returns the exit code: 0 done, 1 failure, 2 bad usage.
int exportFiguresMain(int argc, char** argv);

}  // namespace qs::gui

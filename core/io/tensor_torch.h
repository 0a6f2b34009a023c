// Bridge from checkpoint bytes to libtorch: copies tensors out of the memory map into new torch
// tensors (float32 unless asked otherwise) on a device. The copies own their memory, so the
// mapped pages can be released right after (one layer resident at a time).
#pragma once

#include <string>

#include <torch/types.h>

#include "core/io/tensor_store.h"

namespace qs {

// The torch dtype of a float checkpoint dtype; throws QsError naming `where` otherwise.
torch::Dtype torch_dtype_of(DType dtype, const std::string& where);

// Whole tensor, F32/F16/BF16/F64 -> dtype on device.
torch::Tensor load_tensor(const TensorStore& store, const std::string& name,
                          torch::Dtype dtype = torch::kFloat32,
                          const torch::Device& device = torch::kCPU);

// Rows `ids` (any shape, integer) of a 2-D tensor, gathered straight from the memory map: only
// the pages of the selected rows are touched (embedding lookups without loading the table).
// Result shape ids.shape + [cols]. Throws QsError for ids outside the table.
torch::Tensor gather_rows(const TensorStore& store, const std::string& name,
                          const torch::Tensor& ids, torch::Dtype dtype = torch::kFloat32,
                          const torch::Device& device = torch::kCPU);

}  // namespace qs

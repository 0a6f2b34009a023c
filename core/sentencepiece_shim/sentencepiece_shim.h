// C interface of libqs_sentencepiece_shim.so (see sentencepiece_shim.cpp for why it exists).
// Functions returning a length write at most `capacity` bytes/ids and return the full length,
// so callers retry with a bigger buffer; -1 means an error was written to `error`.
#pragma once

#include <cstddef>

extern "C" {
void* qs_spm_load(const char* path, char* error, std::size_t capacity);
void qs_spm_free(void* handle);
int qs_spm_encode(void* handle, const char* text, std::size_t length, int* ids, int capacity,
                  char* error, std::size_t error_capacity);
int qs_spm_decode(void* handle, const int* ids, int count, char* text, std::size_t capacity,
                  char* error, std::size_t error_capacity);
int qs_spm_piece_size(void* handle);
int qs_spm_piece_to_id(void* handle, const char* piece);
int qs_spm_is_control(void* handle, int id);
int qs_spm_unk_id(void* handle);
int qs_spm_bos_id(void* handle);
int qs_spm_eos_id(void* handle);
int qs_spm_id_to_piece(void* handle, int id, char* piece, std::size_t capacity);
}

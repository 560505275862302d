/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz: what every libFuzzer target in tests/fuzz/ shares. Each target
 * defines LLVMFuzzerTestOneInput (and may define LLVMFuzzerInitialize);
 * `make fuzz` links them with libFuzzer under ASan and UBSan, and
 * replay.c runs the same code over the corpora and the regression inputs
 * in `make check`.
 *
 * A broken invariant is a finding: fuzz_fail() prints it and aborts, so
 * libFuzzer saves the input that broke it.
 */
#ifndef ENDPOINTD_FUZZ_H
#define ENDPOINTD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define fuzz_fail(...)                                                        \
	do {                                                                  \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);               \
		fprintf(stderr, __VA_ARGS__);                                 \
		fputc('\n', stderr);                                          \
		abort();                                                      \
	} while (0)

#endif

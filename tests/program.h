/*
 * program.h — what the tests that drive the odernn program share: running it with its output
 * captured, a temporary folder per suite, and reading a file whole.
 * The program is found through $ODERNN (the Makefile sets it), else build/odernn.
 */
#ifndef ODERNN_TESTS_PROGRAM_H
#define ODERNN_TESTS_PROGRAM_H

#include <stddef.h>

/* stdout and stderr of the last program_run, together, NUL-terminated. */
extern char program_out[1 << 16];
/* Runs "odernn ARGS"; returns the exit status (-1 if it did not exit normally). */
int program_run(const char *args);
/* mkdtemp("/tmp/odernn-<prefix>-XXXXXX") into dir (>= 64 bytes); removal with rm -rf. */
void program_tmpdir_make(char *dir, const char *prefix);
void program_tmpdir_remove(const char *dir);
/* The whole file, NUL-terminated (free it); its length in *len if len is not NULL. */
char *program_slurp(const char *path, size_t *len);

#endif

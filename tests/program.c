/*
 * program.c — helpers for the tests that drive the odernn program (program.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "program.h"

char program_out[1 << 16];

int program_run(const char *args)
{
    const char *prog = getenv("ODERNN") ? getenv("ODERNN") : "build/odernn";
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", prog, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(program_out, 1, sizeof program_out - 1, p);
    program_out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void program_tmpdir_make(char *dir, const char *prefix)
{
    snprintf(dir, 64, "/tmp/odernn-%s-XXXXXX", prefix);
    cr_assert_not_null(mkdtemp(dir));
}

void program_tmpdir_remove(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

char *program_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

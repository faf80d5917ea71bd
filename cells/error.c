/*
 * error.c — the suite's error codes and their messages.
 *
 * Library code returns these codes and never exits or prints; only cli/ maps them to an
 * exit status (bad input: 2, numerical failure: 3).
 */
#include "cell.h"

const char *rnn_strerror(int code)
{
    switch (code) {
    case RNN_OK: return "success";
    case RNN_EINVAL: return "invalid argument";
    case RNN_ENOMEM: return "out of memory";
    case RNN_EUNSUPPORTED: return "operation not supported by this cell";
    case RNN_ENONFINITE: return "a value turned non-finite (NaN or infinite)";
    case RNN_ESOLVER: return "a numerical solver failed";
    case RNN_EIO: return "input/output error";
    case RNN_EFORMAT: return "malformed or mismatched file";
    default: return "unknown error";
    }
}

int rnn_status_is_usage(int code)
{
    return code == RNN_EINVAL || code == RNN_EIO || code == RNN_EFORMAT ||
           code == RNN_EUNSUPPORTED;
}

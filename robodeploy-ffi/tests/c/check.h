/* Minimal assertions for robodeploy's C tests: each failure prints where and what, counts, and
 * the test goes on; main() returns non-zero when anything failed. */
#ifndef RD_CHECK_H
#define RD_CHECK_H

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "robodeploy.h"

/* A pointer value no call may write over unless it succeeds. */
#define SENTINEL ((char *)(uintptr_t)0x5eed)

static int rd_checks_passed = 0;
static int rd_checks_failed = 0;

static void rd_check_report(int ok, const char *file, int line, const char *what) {
    if (ok) {
        rd_checks_passed++;
        return;
    }
    rd_checks_failed++;
    char detail[512];
    rd_last_error(detail, sizeof detail);
    fprintf(stderr, "%s:%d: FAILED: %s (last error: %s)\n", file, line, what, detail);
}

/* A condition. */
#define CHECK(cond) rd_check_report((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

/* A call returning an rd_result, compared with the expected code. */
#define CHECK_CODE(call, expected)                                                          \
    do {                                                                                    \
        rd_result rd_got_ = (call);                                                         \
        rd_check_report(rd_got_ == (rd_result)(expected), __FILE__, __LINE__, #call);       \
        if (rd_got_ != (rd_result)(expected)) {                                             \
            fprintf(stderr, "    returned %u (%s), expected %u (%s)\n", (unsigned)rd_got_,  \
                    rd_result_message(rd_got_), (unsigned)(expected),                      \
                    rd_result_message((uint32_t)(expected)));                               \
        }                                                                                   \
    } while (0)

/* A string contains a substring. */
#define CHECK_CONTAINS(text, needle)                                                        \
    do {                                                                                    \
        const char *rd_text_ = (text);                                                      \
        int rd_ok_ = rd_text_ != NULL && rd_text_ != SENTINEL && strstr(rd_text_, (needle)) != NULL;                \
        rd_check_report(rd_ok_, __FILE__, __LINE__, #text " contains " #needle);           \
        if (!rd_ok_) {                                                                      \
            fprintf(stderr, "    text: %s\n", rd_text_ && rd_text_ != SENTINEL ? rd_text_ : "(none)");             \
        }                                                                                   \
    } while (0)

/* The last error on this thread mentions `needle`. */
#define CHECK_LAST_ERROR(needle)                                                            \
    do {                                                                                    \
        char rd_msg_[1024];                                                                 \
        rd_last_error(rd_msg_, sizeof rd_msg_);                                             \
        CHECK_CONTAINS(rd_msg_, needle);                                                    \
    } while (0)

/* What every suite's main returns, after a closing line the harness reads. */
static int rd_check_summary(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, rd_checks_passed, rd_checks_failed);
    return rd_checks_failed == 0 ? 0 : 1;
}


#endif

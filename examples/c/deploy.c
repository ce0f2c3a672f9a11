/* Deploys a talker as a local process with robodeploy's C ABI, waits until it runs, reads and
 * follows its output, then deprovisions it and shuts the engine down.
 *
 *   cargo build -p robodeploy-ffi
 *   cc -std=c11 -Wall -Wextra -Werror -I robodeploy-ffi/include examples/c/deploy.c \
 *      -L target/debug -Wl,-rpath,$PWD/target/debug -lrobodeploy -o deploy
 *   ROBODEPLOY_PROCESS_SHIM=target/debug/robodeploy-ffi-shim ./deploy /tmp/robodeploy-example
 *
 * Every call returns an rd_result; on failure the example prints rd_last_error's detail. */
#include <stdio.h>
#include <stdlib.h>

#include "robodeploy.h"

/* Prints the failed call with its message and detail, and jumps to the clean-up. */
#define TRY(call)                                                                         \
    do {                                                                                  \
        rd_result rc_ = (call);                                                           \
        if (rc_ != RD_OK) {                                                               \
            char detail_[1024];                                                           \
            rd_last_error(detail_, sizeof detail_);                                       \
            fprintf(stderr, "%s: %s: %s\n", #call, rd_result_message(rc_), detail_);      \
            status = EXIT_FAILURE;                                                        \
            goto done;                                                                    \
        }                                                                                 \
    } while (0)

static const char *DEVICE =
    "{\"name\": \"robot-001\", \"architecture\": \"amd64\", \"runtime\": \"preinstalled\"}";

static const char *PACKAGE =
    "{\"name\": \"talker\", \"version\": \"1.0.0\", \"components\": [{"
    "  \"name\": \"talker\","
    "  \"placement\": {\"kind\": \"device\", \"runtime\": \"preinstalled\", \"architecture\": \"amd64\"},"
    "  \"restartPolicy\": \"on-failure\","
    "  \"executables\": [{\"name\": \"talker\", \"shell\": true,"
    "    \"command\": [\"i=0; while true; do i=$((i+1)); echo talker: hello $i; sleep 0.2; done\"]}]}]}";

static const char *REQUEST =
    "{\"name\": \"talker\", \"package\": \"talker\", \"version\": \"1.0.0\","
    " \"devices\": {\"talker\": \"robot-001\"}}";

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <runtime directory>\n", argv[0]);
        return 2;
    }
    int status = EXIT_SUCCESS;
    rd_engine *engine = NULL;
    rd_log_stream *stream = NULL;
    char *id = NULL, *json = NULL;

    printf("robodeploy %s\n", rd_version());
    TRY(rd_engine_new(NULL, &engine));
    TRY(rd_engine_add_process_device(engine, DEVICE, argv[1]));
    TRY(rd_engine_add_package(engine, PACKAGE));
    TRY(rd_engine_deploy(engine, REQUEST, NULL, &id));
    printf("deployed %s\n", id);

    TRY(rd_engine_wait(engine, id, RD_UNTIL_RUNNING, 20000, &json));
    printf("running: %s\n", json);
    rd_string_free(json);
    json = NULL;

    /* Follow its output for three lines. */
    TRY(rd_engine_logs_follow(engine, id, "talker", "talker", 0, &stream));
    for (int i = 0; i < 3; i++) {
        TRY(rd_log_stream_next(stream, 5000, &json));
        printf("log: %s\n", json);
        rd_string_free(json);
        json = NULL;
    }

    TRY(rd_engine_deprovision(engine, id));
    TRY(rd_engine_wait(engine, id, RD_UNTIL_STOPPED, 20000, &json));
    printf("stopped: %s\n", json);
    TRY(rd_engine_shutdown(engine, 20000));

done:
    rd_string_free(json);
    rd_log_stream_free(stream);
    rd_string_free(id);
    rd_engine_free(engine);
    return status;
}

/* Negative tests of every function of robodeploy's C ABI: NULL in each pointer argument,
 * invalid UTF-8 in each string, truncated JSON in each JSON argument, and every engine call on
 * an engine that was shut down. Each returns its documented code, writes no output, and leaks
 * nothing (valgrind checks). */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>

#include "check.h"

static const char *DEVICE =
    "{\"name\": \"r1\", \"architecture\": \"amd64\", \"runtime\": \"preinstalled\"}";
static const char *DOCKER_DEVICE =
    "{\"name\": \"d1\", \"architecture\": \"amd64\", \"runtime\": \"docker\"}";
static const char *DOCKER_OPTIONS = "{\"endpoint\": \"tcp://127.0.0.1:1\"}";
static const char *FLEET = "{\"name\": \"lab\", \"robots\": []}";
static const char *PACKAGE =
    "{\"name\": \"demo\", \"version\": \"1\", \"components\": [{\"name\": \"main\","
    " \"placement\": {\"kind\": \"device\", \"runtime\": \"preinstalled\", \"architecture\": \"amd64\"},"
    " \"executables\": [{\"name\": \"node\", \"command\": [\"/usr/bin/demo-node\"]}]}]}";
static const char *REQUEST =
    "{\"name\": \"d1\", \"package\": \"demo\", \"version\": \"1\", \"devices\": {\"main\": \"r1\"}}";
static const char *JOB =
    "{\"fleet\": \"lab\", \"application\": \"demo\", \"applicationVersion\": \"1\","
    " \"launchConfig\": {\"packageName\": \"demo\", \"launchFile\": \"demo.launch\"},"
    " \"deploymentConfig\": {\"concurrentDeploymentPercentage\": 50, \"failureThresholdPercentage\": 50}}";
static const char *SIM = "{\"deploymentConfig\": {\"concurrentDeploymentPercentage\": 10,"
                         " \"failureThresholdPercentage\": 5}, \"robots\": 3}";
static const char *ID = "00000000-0000-0000-0000-000000000001";
static const char *BAD_UTF8 = "{\"name\": \"r\xff\xfe\"}";
static const char *TRUNCATED = "{\"name\": \"r1\", \"archi";
static const char *DIR_ = "/tmp/rd-negative-never-created";

static void callback(const char *event_json, void *user_data) {
    (void)event_json;
    (void)user_data;
}

/* Functions without an engine. */
static void test_free_functions(void) {
    char *out = SENTINEL;
    CHECK_CODE(rd_manifest_validate(NULL, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_LAST_ERROR("`text`");
    CHECK_CODE(rd_manifest_validate(FLEET, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_LAST_ERROR("`report_json_out`");
    CHECK_CODE(rd_manifest_validate(BAD_UTF8, &out), RD_ERR_INVALID_UTF8);
    CHECK_LAST_ERROR("at byte 11");
    CHECK_CODE(rd_manifest_to_json(NULL, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_manifest_to_json(FLEET, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_manifest_to_json(BAD_UTF8, &out), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_manifest_to_json(TRUNCATED, &out), RD_ERR_MANIFEST_SYNTAX);
    CHECK_CODE(rd_simulate(NULL, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_simulate(SIM, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_simulate(BAD_UTF8, &out), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_simulate("{\"robots\": 3, \"se", &out), RD_ERR_INVALID_JSON);
    CHECK_LAST_ERROR("EOF");
    CHECK(out == SENTINEL);

    rd_engine *engine = (rd_engine *)SENTINEL;
    CHECK_CODE(rd_engine_new(NULL, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_new(BAD_UTF8, &engine), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_new(TRUNCATED, &engine), RD_ERR_INVALID_JSON);
    CHECK_CODE(rd_engine_new("{\"lifecycle\": {\"minUptime\": \"1", &engine), RD_ERR_INVALID_JSON);
    CHECK_CODE(rd_engine_new("{\"lifecycle\": {\"minUptime\": \"\xff\"}}", &engine), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_new("{\"lifecycle\": {\"crashLoopExits\": 0}}", &engine), RD_ERR_INVALID_CONFIG);
    CHECK_LAST_ERROR("lifecycle.crashLoopExits = 0: must be within 1..=64");
    CHECK(engine == (rd_engine *)SENTINEL);

    /* NULL handles to the functions that take one. */
    CHECK_CODE(rd_engine_shutdown(NULL, 10), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_set_event_callback(NULL, callback, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_subscribe(NULL, (rd_events **)&out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_events_next(NULL, 0, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_log_stream_next(NULL, 0, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_add_package(NULL, PACKAGE), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_add_memory_device(NULL, DEVICE), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_add_process_device(NULL, DEVICE, DIR_), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_add_docker_device(NULL, DOCKER_DEVICE, DOCKER_OPTIONS), RD_ERR_NULL_ARGUMENT);
    CHECK_LAST_ERROR("`engine`");
    CHECK_CODE(rd_engine_add_fleet(NULL, FLEET), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_deploy(NULL, REQUEST, NULL, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_deprovision(NULL, ID), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_status(NULL, ID, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_wait(NULL, ID, RD_UNTIL_RUNNING, 10, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_logs(NULL, ID, "c", "e", -1, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_logs_follow(NULL, ID, "c", "e", -1, (rd_log_stream **)&out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_create_job(NULL, JOB, NULL, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_cancel_job(NULL, ID), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_job(NULL, ID, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_wait_job(NULL, ID, 10, &out), RD_ERR_NULL_ARGUMENT);
    CHECK(out == SENTINEL);

    /* Frees of NULL are no-ops; the copy-out functions accept NULL buffers. */
    rd_engine_free(NULL);
    rd_events_free(NULL);
    rd_log_stream_free(NULL);
    rd_string_free(NULL);
    CHECK(rd_last_error(NULL, 100) > 0);
    CHECK(rd_last_error_details(NULL, 100) == 0);
    CHECK(rd_result_message(UINT32_MAX) != NULL);
}

/* Every pointer argument of every engine function, on a live engine. */
static void test_live_engine(rd_engine *e) {
    char *out = SENTINEL;
    rd_events *ev = (rd_events *)SENTINEL;
    rd_log_stream *ls = (rd_log_stream *)SENTINEL;

    CHECK_CODE(rd_engine_add_package(e, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_add_package(e, BAD_UTF8), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_add_package(e, TRUNCATED), RD_ERR_INVALID_JSON);
    CHECK_LAST_ERROR("`package_json` is not a valid package");

    CHECK_CODE(rd_engine_add_memory_device(e, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_add_memory_device(e, BAD_UTF8), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_add_memory_device(e, TRUNCATED), RD_ERR_INVALID_JSON);

    CHECK_CODE(rd_engine_add_process_device(e, NULL, DIR_), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_add_process_device(e, DEVICE, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_LAST_ERROR("`root_dir`");
    CHECK_CODE(rd_engine_add_process_device(e, BAD_UTF8, DIR_), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_add_process_device(e, DEVICE, "/tmp/\xff"), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_add_process_device(e, TRUNCATED, DIR_), RD_ERR_INVALID_JSON);

    /* docker_json may be NULL (the local engine); device_json may not. */
    CHECK_CODE(rd_engine_add_docker_device(e, NULL, DOCKER_OPTIONS), RD_ERR_NULL_ARGUMENT);
    CHECK_LAST_ERROR("`device_json`");
    CHECK_CODE(rd_engine_add_docker_device(e, BAD_UTF8, DOCKER_OPTIONS), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_add_docker_device(e, DOCKER_DEVICE, "{\"endpoint\": \"tcp://r\xff\"}"),
               RD_ERR_INVALID_UTF8);
    CHECK_LAST_ERROR("`docker_json` is not valid UTF-8");
    CHECK_CODE(rd_engine_add_docker_device(e, TRUNCATED, DOCKER_OPTIONS), RD_ERR_INVALID_JSON);
    CHECK_CODE(rd_engine_add_docker_device(e, DOCKER_DEVICE, "{\"endpoint\": \"tcp://"), RD_ERR_INVALID_JSON);
    CHECK_LAST_ERROR("`docker_json` is not a valid Docker options object");
    CHECK_CODE(rd_engine_add_docker_device(e, DOCKER_DEVICE, "{\"endpoint\": \"ftp://r7\"}"),
               RD_ERR_INVALID_CONFIG);
    CHECK_LAST_ERROR("endpoint = \"ftp://r7\": must start with unix://, tcp://, http:// or ssh://");
    CHECK_CODE(rd_engine_add_docker_device(e, DEVICE, NULL), RD_ERR_INVALID_CONFIG);
    CHECK_LAST_ERROR("runtime = \"preinstalled\": must be \"docker\"");

    CHECK_CODE(rd_engine_add_fleet(e, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_add_fleet(e, BAD_UTF8), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_add_fleet(e, TRUNCATED), RD_ERR_INVALID_JSON);

    CHECK_CODE(rd_engine_deploy(e, NULL, NULL, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_deploy(e, REQUEST, NULL, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_deploy(e, BAD_UTF8, NULL, &out), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_deploy(e, REQUEST, "tok\xff", &out), RD_ERR_INVALID_UTF8);
    CHECK_LAST_ERROR("`token`");
    CHECK_CODE(rd_engine_deploy(e, TRUNCATED, NULL, &out), RD_ERR_INVALID_JSON);

    CHECK_CODE(rd_engine_deprovision(e, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_deprovision(e, "\xff"), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_deprovision(e, "{"), RD_ERR_INVALID_ARGUMENT);

    CHECK_CODE(rd_engine_status(e, NULL, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_status(e, ID, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_status(e, "\xff", &out), RD_ERR_INVALID_UTF8);

    CHECK_CODE(rd_engine_wait(e, NULL, RD_UNTIL_RUNNING, 10, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_wait(e, ID, RD_UNTIL_RUNNING, 10, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_wait(e, "\xff", RD_UNTIL_RUNNING, 10, &out), RD_ERR_INVALID_UTF8);

    CHECK_CODE(rd_engine_logs(e, NULL, "c", "e", -1, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_logs(e, ID, NULL, "e", -1, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_logs(e, ID, "c", NULL, -1, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_logs(e, ID, "c", "e", -1, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_logs(e, ID, "c\xff", "e", -1, &out), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_logs(e, ID, "c", "e\xff", -1, &out), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_logs(e, ID, "c", "e", -1, &out), RD_ERR_NOT_FOUND);

    CHECK_CODE(rd_engine_logs_follow(e, NULL, "c", "e", -1, &ls), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_logs_follow(e, ID, NULL, "e", -1, &ls), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_logs_follow(e, ID, "c", NULL, -1, &ls), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_logs_follow(e, ID, "c", "e", -1, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_logs_follow(e, "\xff", "c", "e", -1, &ls), RD_ERR_INVALID_UTF8);

    CHECK_CODE(rd_engine_create_job(e, NULL, NULL, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_create_job(e, JOB, NULL, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_create_job(e, BAD_UTF8, NULL, &out), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_create_job(e, JOB, "\xff", &out), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_create_job(e, TRUNCATED, NULL, &out), RD_ERR_INVALID_JSON);

    CHECK_CODE(rd_engine_cancel_job(e, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_cancel_job(e, "\xff"), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_job(e, NULL, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_job(e, ID, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_job(e, "\xff", &out), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_wait_job(e, NULL, 10, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_wait_job(e, ID, 10, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_wait_job(e, "\xff", 10, &out), RD_ERR_INVALID_UTF8);

    CHECK_CODE(rd_engine_job_tags(e, NULL, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_job_tags(e, ID, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_LAST_ERROR("`tags_json_out`");
    CHECK_CODE(rd_engine_job_tags(e, "\xff", &out), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_tag_job(e, NULL, "{}"), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_tag_job(e, ID, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_LAST_ERROR("`tags_json`");
    CHECK_CODE(rd_engine_tag_job(e, ID, BAD_UTF8), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_tag_job(e, ID, TRUNCATED), RD_ERR_INVALID_JSON);
    CHECK_CODE(rd_engine_untag_job(e, NULL, "[]"), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_untag_job(e, ID, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_LAST_ERROR("`keys_json`");
    CHECK_CODE(rd_engine_untag_job(e, ID, "[\"\xff\"]"), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_untag_job(e, ID, "[\"a\""), RD_ERR_INVALID_JSON);

    CHECK_CODE(rd_engine_eligible_devices(e, NULL, "1", "c", &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_eligible_devices(e, "p", NULL, "c", &out), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_engine_eligible_devices(e, "p", "1", NULL, &out), RD_ERR_NULL_ARGUMENT);
    CHECK_LAST_ERROR("`component`");
    CHECK_CODE(rd_engine_eligible_devices(e, "p", "1", "c", NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_LAST_ERROR("`devices_json_out`");
    CHECK_CODE(rd_engine_eligible_devices(e, "p\xff", "1", "c", &out), RD_ERR_INVALID_UTF8);
    CHECK_CODE(rd_engine_eligible_devices(e, "p", "1", "c", &out), RD_ERR_NOT_FOUND);

    CHECK_CODE(rd_engine_subscribe(e, NULL), RD_ERR_NULL_ARGUMENT);
    /* A NULL callback is allowed (it removes the registration), so is NULL user data. */
    CHECK_CODE(rd_engine_set_event_callback(e, NULL, NULL), RD_OK);

    CHECK(out == SENTINEL);
    CHECK(ev == (rd_events *)SENTINEL);
    CHECK(ls == (rd_log_stream *)SENTINEL);

    /* The streams' own output pointers. */
    rd_events *sub = NULL;
    CHECK_CODE(rd_engine_subscribe(e, &sub), RD_OK);
    CHECK_CODE(rd_events_next(sub, 0, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_CODE(rd_events_next(sub, 0, &out), RD_ERR_TIMEOUT);
    CHECK(out == SENTINEL);
    rd_events_free(sub);
}

/* Every engine function on an engine that was shut down. */
static void test_shut_down_engine(rd_engine *e) {
    char *out = SENTINEL;
    rd_events *ev = (rd_events *)SENTINEL;
    rd_log_stream *ls = (rd_log_stream *)SENTINEL;
    CHECK_CODE(rd_engine_shutdown(e, 1000), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_add_package(e, PACKAGE), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_add_memory_device(e, DEVICE), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_add_process_device(e, DEVICE, DIR_), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_add_docker_device(e, DOCKER_DEVICE, DOCKER_OPTIONS), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_add_docker_device(e, DOCKER_DEVICE, NULL), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_add_fleet(e, FLEET), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_deploy(e, REQUEST, NULL, &out), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_deprovision(e, ID), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_status(e, ID, &out), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_wait(e, ID, RD_UNTIL_RUNNING, 10, &out), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_logs(e, ID, "c", "e", -1, &out), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_logs_follow(e, ID, "c", "e", -1, &ls), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_create_job(e, JOB, NULL, &out), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_cancel_job(e, ID), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_job(e, ID, &out), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_wait_job(e, ID, 10, &out), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_job_tags(e, ID, &out), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_tag_job(e, ID, "{}"), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_untag_job(e, ID, "[]"), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_eligible_devices(e, "p", "1", "c", &out), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_subscribe(e, &ev), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_set_event_callback(e, callback, NULL), RD_ERR_SHUT_DOWN);
    CHECK_LAST_ERROR("shut down");
    CHECK(out == SENTINEL);
    CHECK(ev == (rd_events *)SENTINEL);
    CHECK(ls == (rd_log_stream *)SENTINEL);
}

int main(void) {
    test_free_functions();
    rd_engine *engine = NULL;
    CHECK_CODE(rd_engine_new(NULL, &engine), RD_OK);
    test_live_engine(engine);
    CHECK_CODE(rd_engine_shutdown(engine, 10000), RD_OK);
    test_shut_down_engine(engine);
    rd_engine_free(engine);
    return rd_check_summary("test_negative");
}

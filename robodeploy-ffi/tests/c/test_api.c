/* robodeploy's C ABI used as a C program would: manifests, the dry-run, an engine with
 * in-memory and process devices, deployments, logs, jobs, events by polling and by callback,
 * calls from several threads, shutdown. Every returned string is freed: valgrind checks. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define WAIT_MS 20000u
#define SENTINEL_ENGINE ((rd_engine *)(uintptr_t)0x5eed)

static const char *DEVICE_R1 =
    "{\"name\": \"r1\", \"architecture\": \"amd64\", \"runtime\": \"preinstalled\"}";
static const char *DEVICE_R2 =
    "{\"name\": \"r2\", \"architecture\": \"amd64\", \"runtime\": \"preinstalled\"}";
static const char *PACKAGE =
    "{\"name\": \"demo\", \"version\": \"1\", \"components\": [{\"name\": \"main\","
    " \"placement\": {\"kind\": \"device\", \"runtime\": \"preinstalled\", \"architecture\": \"amd64\"},"
    " \"restartPolicy\": \"always\","
    " \"executables\": [{\"name\": \"node\", \"command\": [\"/usr/bin/demo-node\", \"--rate\", \"5\"]}]}]}";
static const char *REQUEST =
    "{\"name\": \"d1\", \"package\": \"demo\", \"version\": \"1\", \"devices\": {\"main\": \"r1\"}}";

static const char *MANIFEST_OK =
    "apiVersion: robodeploy/v1\n"
    "kind: Package\n"
    "spec:\n"
    "  name: hello\n"
    "  version: \"1.0.0\"\n"
    "  components:\n"
    "    - name: hello\n"
    "      placement: {kind: device, runtime: preinstalled, architecture: amd64}\n"
    "      executables:\n"
    "        - {name: hello, command: [sleep, \"30\"]}\n";

static const char *MANIFEST_BAD_JOB =
    "apiVersion: robodeploy/v1\n"
    "kind: DeploymentJob\n"
    "spec:\n"
    "  fleet: lab\n"
    "  application: talker\n"
    "  applicationVersion: $LATEST\n"
    "  launchConfig: {packageName: talker, launchFile: talker.launch.py}\n"
    "  deploymentConfig: {concurrentDeploymentPercentage: 20, failureThresholdPercentage: 5}\n";

static void test_library(void) {
    CHECK(strcmp(rd_version(), RD_EXPECTED_VERSION) == 0);
    const rd_result codes[] = {RD_OK, RD_ERR_NULL_ARGUMENT, RD_ERR_INVALID_UTF8, RD_ERR_INVALID_JSON,
                               RD_ERR_INVALID_ARGUMENT, RD_ERR_INVALID_CONFIG, RD_ERR_MANIFEST_SYNTAX, RD_ERR_VALIDATION,
                               RD_ERR_SIMULATION, RD_ERR_NOT_FOUND, RD_ERR_CONFLICT,
                               RD_ERR_NOT_RUNNING, RD_ERR_TIMEOUT, RD_ERR_SHUT_DOWN,
                               RD_ERR_END_OF_STREAM, RD_ERR_WRONG_THREAD, RD_ERR_RUNTIME,
                               RD_ERR_STORE, RD_ERR_SETUP, RD_ERR_PANIC, RD_ERR_INTERNAL};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *m = rd_result_message(codes[i]);
        CHECK(m != NULL && strcmp(m, "unknown result code") != 0);
    }
    CHECK(strcmp(rd_result_message(RD_OK), "success") == 0);
    CHECK(strcmp(rd_result_message(7), "unknown result code") == 0);
    CHECK(strcmp(rd_result_message(RD_ERR_SHUT_DOWN), "the engine has shut down") == 0);
    CHECK(RD_ERR_INVALID_CONFIG == 104);
}

static void test_manifests(void) {
    char *out = SENTINEL;
    CHECK_CODE(rd_manifest_validate(MANIFEST_OK, &out), RD_OK);
    CHECK_CONTAINS(out, "\"valid\":true");
    rd_string_free(out);

    out = SENTINEL;
    CHECK_CODE(rd_manifest_validate(MANIFEST_BAD_JOB, &out), RD_OK);
    CHECK_CONTAINS(out, "\"valid\":false");
    CHECK_CONTAINS(out, "\"path\":\"spec.applicationVersion\"");
    CHECK_CONTAINS(out, "\"rule\":\"LatestVersion\"");
    CHECK_CONTAINS(out, "\"rule\":\"ThresholdBelowConcurrency\"");
    rd_string_free(out);

    out = SENTINEL;
    CHECK_CODE(rd_manifest_to_json(MANIFEST_OK, &out), RD_OK);
    CHECK_CONTAINS(out, "\"kind\":\"Package\"");
    CHECK_CONTAINS(out, "\"command\":[\"sleep\",\"30\"]");
    rd_string_free(out);

    /* A truncated JSON manifest: a syntax error with its position; the output is untouched. */
    out = SENTINEL;
    CHECK_CODE(rd_manifest_validate("[{\"apiVersion\": \"robodeploy/v1\", \"kind\": ", &out),
               RD_ERR_MANIFEST_SYNTAX);
    CHECK(out == SENTINEL);
    CHECK_LAST_ERROR("line 1");
    CHECK(rd_last_error_code() == RD_ERR_MANIFEST_SYNTAX);

    /* The last error's length and a copy truncated to the buffer, NUL-terminated. */
    size_t full = rd_last_error(NULL, 0);
    CHECK(full > 10);
    char small[8];
    memset(small, 'x', sizeof small);
    CHECK(rd_last_error(small, sizeof small) == full);
    CHECK(strlen(small) == sizeof small - 1);
}

static void test_simulate(void) {
    const char *input =
        "{\"deploymentConfig\": {\"concurrentDeploymentPercentage\": 10,"
        " \"failureThresholdPercentage\": 5}, \"robots\": 200, \"seed\": 7}";
    char *a = SENTINEL, *b = SENTINEL;
    CHECK_CODE(rd_simulate(input, &a), RD_OK);
    CHECK_CODE(rd_simulate(input, &b), RD_OK);
    CHECK_CONTAINS(a, "\"status\":\"Succeeded\"");
    CHECK_CONTAINS(a, "\"inSync\":200");
    CHECK(a != SENTINEL && b != SENTINEL && strcmp(a, b) == 0); /* deterministic */
    rd_string_free(a);
    rd_string_free(b);

    const char *failing =
        "{\"deploymentConfig\": {\"concurrentDeploymentPercentage\": 10,"
        " \"failureThresholdPercentage\": 5}, \"robots\": 200, \"seed\": 3, \"failureRate\": 0.5}";
    a = SENTINEL;
    CHECK_CODE(rd_simulate(failing, &a), RD_OK);
    CHECK_CONTAINS(a, "\"status\":\"Failed\"");
    CHECK_CONTAINS(a, "\"failureCode\":\"FailureThresholdBreached\"");
    rd_string_free(a);

    a = SENTINEL;
    CHECK_CODE(rd_simulate("{\"deploymentConfig\": {\"concurrentDeploymentPercentage\": 10,"
                           " \"failureThresholdPercentage\": 5}, \"robots\": 10, \"failureRate\": 8}",
                           &a),
               RD_ERR_SIMULATION);
    CHECK(a == SENTINEL);
    CHECK_LAST_ERROR("failureProbability");
    CHECK_CODE(rd_simulate("{\"robots\": 10}", &a), RD_ERR_INVALID_ARGUMENT);
    CHECK_CODE(rd_simulate("{\"robots\": 10, \"colour\": 1}", &a), RD_ERR_INVALID_JSON);
    CHECK_LAST_ERROR("colour");
    CHECK(a == SENTINEL);
}

/* Events by callback: counted, and the rules checked from inside. */
typedef struct {
    atomic_int deployment_events;
    atomic_int nested_status_ok;
    atomic_int nested_register_refused;
    const rd_engine *engine;
    char deployment_id[64];
    pthread_mutex_t lock;
} callback_state;

static void on_event(const char *event_json, void *user_data) {
    callback_state *st = user_data;
    if (strstr(event_json, "\"event\":\"deployment\"") == NULL) {
        return;
    }
    atomic_fetch_add(&st->deployment_events, 1);
    /* Engine calls are allowed from the callback thread... */
    pthread_mutex_lock(&st->lock);
    char id[64];
    memcpy(id, st->deployment_id, sizeof id);
    pthread_mutex_unlock(&st->lock);
    if (id[0] != '\0') {
        char *status = NULL;
        if (rd_engine_status(st->engine, id, &status) == RD_OK) {
            atomic_fetch_add(&st->nested_status_ok, 1);
            rd_string_free(status);
        }
    }
    /* ...but not re-registering, which would wait for this very thread. */
    if (rd_engine_set_event_callback(st->engine, NULL, NULL) == RD_ERR_WRONG_THREAD) {
        atomic_fetch_add(&st->nested_register_refused, 1);
    }
}

typedef struct {
    const rd_engine *engine;
    const char *id;
    int ok;
} status_worker;

static void *status_loop(void *arg) {
    status_worker *w = arg;
    for (int i = 0; i < 50; i++) {
        char *status = NULL;
        if (rd_engine_status(w->engine, w->id, &status) == RD_OK &&
            strstr(status, "\"phase\":\"Succeeded\"") != NULL) {
            w->ok++;
        }
        rd_string_free(status);
    }
    return NULL;
}

static void test_memory_engine(void) {
    rd_engine *engine = NULL;
    CHECK_CODE(rd_engine_new("{\"workerThreads\": 2, \"healthInterval\": \"200ms\"}", &engine), RD_OK);
    CHECK(engine != NULL);
    CHECK_CODE(rd_engine_add_memory_device(engine, DEVICE_R1), RD_OK);
    CHECK_CODE(rd_engine_add_memory_device(engine, DEVICE_R2), RD_OK);
    CHECK_CODE(rd_engine_add_package(engine, PACKAGE), RD_OK);
    CHECK_CODE(rd_engine_add_package(engine, PACKAGE), RD_OK); /* identical: fine */

    rd_events *events = NULL;
    CHECK_CODE(rd_engine_subscribe(engine, &events), RD_OK);

    callback_state st;
    memset(&st, 0, sizeof st);
    st.engine = engine;
    pthread_mutex_init(&st.lock, NULL);
    CHECK_CODE(rd_engine_set_event_callback(engine, on_event, &st), RD_OK);

    /* A request naming an unknown device: refused with the validation report as details. */
    char *id = SENTINEL;
    CHECK_CODE(rd_engine_deploy(engine,
                                "{\"name\": \"bad\", \"package\": \"demo\", \"version\": \"1\","
                                " \"devices\": {\"main\": \"nowhere\"}}",
                                NULL, &id),
               RD_ERR_VALIDATION);
    CHECK(id == SENTINEL);
    char details[2048];
    CHECK(rd_last_error_details(details, sizeof details) > 0);
    CHECK_CONTAINS(details, "\"path\":\"spec.devices.main\"");
    CHECK_CONTAINS(details, "\"rule\":\"UnknownDevice\"");

    /* Deploy with a token: the same token gives the same id. */
    CHECK_CODE(rd_engine_deploy(engine, REQUEST, "tok-1", &id), RD_OK);
    CHECK(id != SENTINEL);
    char *again = SENTINEL;
    CHECK_CODE(rd_engine_deploy(engine, REQUEST, "tok-1", &again), RD_OK);
    CHECK(again != SENTINEL && strcmp(id, again) == 0);
    rd_string_free(again);
    again = SENTINEL;
    CHECK_CODE(rd_engine_deploy(engine, REQUEST, NULL, &again), RD_ERR_CONFLICT);
    CHECK(again == SENTINEL);
    pthread_mutex_lock(&st.lock);
    snprintf(st.deployment_id, sizeof st.deployment_id, "%s", id);
    pthread_mutex_unlock(&st.lock);

    char *status = SENTINEL;
    CHECK_CODE(rd_engine_wait(engine, id, RD_UNTIL_RUNNING, WAIT_MS, &status), RD_OK);
    CHECK_CONTAINS(status, "\"phase\":\"Succeeded\"");
    CHECK_CONTAINS(status, "\"status\":\"Running\"");
    rd_string_free(status);
    CHECK_CODE(rd_engine_status(engine, id, &status), RD_OK);
    CHECK_CONTAINS(status, "\"name\":\"d1\"");
    CHECK_CONTAINS(status, "\"device\":\"r1\"");
    rd_string_free(status);

    /* Waiting for what does not happen times out; an unknown condition is refused. */
    status = SENTINEL;
    CHECK_CODE(rd_engine_wait(engine, id, RD_UNTIL_STOPPED, 50, &status), RD_ERR_TIMEOUT);
    CHECK_CODE(rd_engine_wait(engine, id, 99, 50, &status), RD_ERR_INVALID_ARGUMENT);
    CHECK_LAST_ERROR("until");
    CHECK(status == SENTINEL);
    CHECK_CODE(rd_engine_status(engine, "00000000-0000-0000-0000-000000000001", &status),
               RD_ERR_NOT_FOUND);
    CHECK_CODE(rd_engine_status(engine, "not-an-id", &status), RD_ERR_INVALID_ARGUMENT);
    CHECK_LAST_ERROR("not-an-id");
    CHECK(status == SENTINEL);

    /* Several threads at once on one engine. */
    pthread_t threads[4];
    status_worker workers[4];
    for (int i = 0; i < 4; i++) {
        workers[i] = (status_worker){engine, id, 0};
        pthread_create(&threads[i], NULL, status_loop, &workers[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK(workers[i].ok == 50);
    }

    /* Logs: the in-memory runtime's one line names the command. */
    char *lines = SENTINEL;
    CHECK_CODE(rd_engine_logs(engine, id, "main", "node", -1, &lines), RD_OK);
    CHECK_CONTAINS(lines, "\"line\":\"started /usr/bin/demo-node --rate 5\"");
    rd_string_free(lines);
    lines = SENTINEL;
    CHECK_CODE(rd_engine_logs(engine, id, "main", "nope", -1, &lines), RD_ERR_NOT_RUNNING);
    CHECK_LAST_ERROR("main/nope");
    CHECK(lines == SENTINEL);
    rd_log_stream *stream = NULL;
    CHECK_CODE(rd_engine_logs_follow(engine, id, "main", "node", 10, &stream), RD_OK);
    CHECK_CODE(rd_log_stream_next(stream, 0, NULL), RD_ERR_NULL_ARGUMENT);
    CHECK_LAST_ERROR("`line_json_out`");
    char *line = SENTINEL;
    CHECK_CODE(rd_log_stream_next(stream, WAIT_MS, &line), RD_OK);
    CHECK_CONTAINS(line, "\"stream\":\"stdout\"");
    rd_string_free(line);
    line = SENTINEL;
    CHECK_CODE(rd_log_stream_next(stream, WAIT_MS, &line), RD_ERR_END_OF_STREAM);
    CHECK(line == SENTINEL);
    rd_log_stream_free(stream);

    /* Deprovision and wait for the end. */
    CHECK_CODE(rd_engine_deprovision(engine, id), RD_OK);
    CHECK_CODE(rd_engine_wait(engine, id, RD_UNTIL_STOPPED, WAIT_MS, &status), RD_OK);
    CHECK_CONTAINS(status, "\"phase\":\"DeploymentStopped\"");
    rd_string_free(status);

    /* The polling subscription saw the deployment's phases, in order. */
    int saw_running = 0, saw_stopped = 0;
    for (;;) {
        char *ev = NULL;
        rd_result r = rd_events_next(events, 0, &ev);
        if (r != RD_OK) {
            CHECK(r == RD_ERR_TIMEOUT);
            break;
        }
        if (strstr(ev, "\"event\":\"deployment\"") && strstr(ev, "\"status\":\"Running\"")) {
            saw_running = 1;
        }
        if (strstr(ev, "\"phase\":\"DeploymentStopped\"")) {
            CHECK(saw_running);
            saw_stopped = 1;
        }
        rd_string_free(ev);
    }
    CHECK(saw_running && saw_stopped);

    /* The callback saw them too; calls from inside it followed the rules. Removing it waits
     * for a running call to finish, so the counts are final afterwards. */
    CHECK_CODE(rd_engine_set_event_callback(engine, NULL, NULL), RD_OK);
    int seen = atomic_load(&st.deployment_events);
    CHECK(seen >= 2);
    CHECK(atomic_load(&st.nested_register_refused) == seen);
    CHECK(atomic_load(&st.nested_status_ok) >= 1);

    /* A job over both robots: succeeds; a second one waiting for a manual resume is canceled. */
    CHECK_CODE(rd_engine_add_fleet(engine,
                                   "{\"name\": \"lab\", \"robots\": ["
                                   "{\"name\": \"r1\", \"architecture\": \"amd64\", \"runtime\": \"preinstalled\"},"
                                   "{\"name\": \"r2\", \"architecture\": \"amd64\", \"runtime\": \"preinstalled\"}]}"),
               RD_OK);
    const char *job =
        "{\"fleet\": \"lab\", \"application\": \"demo\", \"applicationVersion\": \"1\","
        " \"launchConfig\": {\"packageName\": \"demo\", \"launchFile\": \"demo.launch\"},"
        " \"deploymentConfig\": {\"concurrentDeploymentPercentage\": 50,"
        " \"failureThresholdPercentage\": 50}}";
    char *job_id = SENTINEL;
    CHECK_CODE(rd_engine_create_job(engine, job, NULL, &job_id), RD_OK);
    char *report = SENTINEL;
    CHECK_CODE(rd_engine_wait_job(engine, job_id, WAIT_MS, &report), RD_OK);
    CHECK_CONTAINS(report, "\"status\":\"Succeeded\"");
    CHECK_CONTAINS(report, "\"robot\":\"r2\"");
    rd_string_free(report);
    rd_string_free(job_id);

    const char *held =
        "{\"fleet\": \"lab\", \"application\": \"demo\", \"applicationVersion\": \"1\","
        " \"launchConfig\": {\"packageName\": \"demo\", \"launchFile\": \"demo.launch\"},"
        " \"deploymentConfig\": {\"concurrentDeploymentPercentage\": 50,"
        " \"failureThresholdPercentage\": 50,"
        " \"waves\": [{\"size\": {\"robots\": 1}, \"manualResume\": true}]}}";
    job_id = SENTINEL;
    CHECK_CODE(rd_engine_create_job(engine, held, "held-job", &job_id), RD_OK);
    CHECK_CODE(rd_engine_cancel_job(engine, job_id), RD_OK);
    CHECK_CODE(rd_engine_wait_job(engine, job_id, WAIT_MS, &report), RD_OK);
    CHECK_CONTAINS(report, "\"status\":\"Canceled\"");
    rd_string_free(report);
    CHECK_CODE(rd_engine_job(engine, job_id, &report), RD_OK);
    CHECK_CONTAINS(report, "\"fleet\":\"lab\"");
    rd_string_free(report);
    rd_string_free(job_id);
    report = SENTINEL;
    CHECK_CODE(rd_engine_job(engine, "00000000-0000-0000-0000-000000000002", &report),
               RD_ERR_NOT_FOUND);
    CHECK(report == SENTINEL);

    /* Shutdown: then every call is refused, streams end, and free releases it all. */
    CHECK_CODE(rd_engine_shutdown(engine, WAIT_MS), RD_OK);
    CHECK_CODE(rd_engine_status(engine, id, &status), RD_ERR_SHUT_DOWN);
    CHECK_CODE(rd_engine_shutdown(engine, WAIT_MS), RD_ERR_SHUT_DOWN);
    int drained = 0;
    for (int i = 0; i < 100000; i++) {
        char *ev = NULL;
        rd_result r = rd_events_next(events, WAIT_MS, &ev);
        if (r == RD_ERR_END_OF_STREAM) {
            drained = 1;
            break;
        }
        CHECK(r == RD_OK);
        rd_string_free(ev);
    }
    CHECK(drained);
    rd_events_free(events);
    rd_string_free(id);
    rd_engine_free(engine);
    pthread_mutex_destroy(&st.lock);
}

/* An engine freed without shutdown, and an engine on an embedded store file. */
static void test_free_without_shutdown_and_store(void) {
    rd_engine *engine = NULL;
    CHECK_CODE(rd_engine_new(NULL, &engine), RD_OK);
    CHECK_CODE(rd_engine_add_memory_device(engine, DEVICE_R1), RD_OK);
    rd_events *events = NULL;
    CHECK_CODE(rd_engine_subscribe(engine, &events), RD_OK);
    rd_engine_free(engine);
    /* The subscription outlives the engine and ends. */
    char *ev = SENTINEL;
    rd_result r = rd_events_next(events, WAIT_MS, &ev);
    while (r == RD_OK) {
        rd_string_free(ev);
        r = rd_events_next(events, WAIT_MS, &ev);
    }
    CHECK(r == RD_ERR_END_OF_STREAM);
    rd_events_free(events);

    char dir[] = "/tmp/rd-c-store-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char options[256];
    snprintf(options, sizeof options, "{\"store\": \"%s/engine.redb\"}", dir);
    engine = NULL;
    CHECK_CODE(rd_engine_new(options, &engine), RD_OK);
    CHECK_CODE(rd_engine_add_package(engine, PACKAGE), RD_OK);
    CHECK_CODE(rd_engine_shutdown(engine, WAIT_MS), RD_OK);
    rd_engine_free(engine);
    char path[300];
    snprintf(path, sizeof path, "%s/engine.redb", dir);
    CHECK(access(path, F_OK) == 0);
    unlink(path);
    rmdir(dir);

    /* A store path that cannot be created is a store error naming it. */
    engine = NULL;
    CHECK_CODE(rd_engine_new("{\"store\": \"/nonexistent-dir/x/engine.redb\"}", &engine), RD_ERR_STORE);
    CHECK(engine == NULL);
    CHECK_CODE(rd_engine_new("{\"workerThreads\": 0}", &engine), RD_ERR_INVALID_ARGUMENT);
    CHECK_CODE(rd_engine_new("{\"workerThreads\": 2", &engine), RD_ERR_INVALID_JSON);
    CHECK(engine == NULL);
}

/* Real processes, when the harness names the shim (the process runtime needs it). */
static void test_process_engine(void) {
    if (getenv("ROBODEPLOY_PROCESS_SHIM") == NULL) {
        printf("test_process_engine: skipped, ROBODEPLOY_PROCESS_SHIM is not set\n");
        return;
    }
    char dir[] = "/tmp/rd-c-proc-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    rd_engine *engine = NULL;
    CHECK_CODE(rd_engine_new(NULL, &engine), RD_OK);
    CHECK_CODE(rd_engine_add_process_device(engine, DEVICE_R1, dir), RD_OK);
    CHECK_CODE(rd_engine_add_package(engine,
                                     "{\"name\": \"echo\", \"version\": \"1\", \"components\": [{\"name\": \"main\","
                                     " \"placement\": {\"kind\": \"device\", \"runtime\": \"preinstalled\", \"architecture\": \"amd64\"},"
                                     " \"executables\": [{\"name\": \"talker\", \"shell\": true,"
                                     " \"command\": [\"echo hello-from-c; exec sleep 60\"]}]}]}"),
               RD_OK);
    char *id = NULL;
    CHECK_CODE(rd_engine_deploy(engine,
                                "{\"name\": \"echo\", \"package\": \"echo\", \"version\": \"1\","
                                " \"devices\": {\"main\": \"r1\"}}",
                                NULL, &id),
               RD_OK);
    char *status = NULL;
    CHECK_CODE(rd_engine_wait(engine, id, RD_UNTIL_RUNNING, WAIT_MS, &status), RD_OK);
    rd_string_free(status);
    rd_log_stream *stream = NULL;
    CHECK_CODE(rd_engine_logs_follow(engine, id, "main", "talker", -1, &stream), RD_OK);
    char *line = NULL;
    CHECK_CODE(rd_log_stream_next(stream, WAIT_MS, &line), RD_OK);
    CHECK_CONTAINS(line, "\"line\":\"hello-from-c\"");
    rd_string_free(line);
    char *lines = NULL;
    CHECK_CODE(rd_engine_logs(engine, id, "main", "talker", 5, &lines), RD_OK);
    CHECK_CONTAINS(lines, "hello-from-c");
    rd_string_free(lines);
    CHECK_CODE(rd_engine_deprovision(engine, id), RD_OK);
    CHECK_CODE(rd_engine_wait(engine, id, RD_UNTIL_STOPPED, WAIT_MS, &status), RD_OK);
    CHECK_CONTAINS(status, "\"phase\":\"DeploymentStopped\"");
    rd_string_free(status);
    rd_log_stream_free(stream);
    rd_string_free(id);
    CHECK_CODE(rd_engine_shutdown(engine, WAIT_MS), RD_OK);
    rd_engine_free(engine);
    /* A root directory that cannot be created is a setup error. */
    CHECK_CODE(rd_engine_new(NULL, &engine), RD_OK);
    CHECK_CODE(rd_engine_add_process_device(engine, DEVICE_R1, "/proc/rd-cannot-create"), RD_ERR_SETUP);
    CHECK_LAST_ERROR("rd-cannot-create");
    rd_engine_free(engine);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* The status of `id` once it contains `needle`, polled every 100 ms for at most WAIT_MS (NULL if
 * it never did); free it with rd_string_free. */
static char *status_once_it_contains(const rd_engine *engine, const char *id, const char *needle) {
    for (unsigned waited = 0; waited < WAIT_MS; waited += 100) {
        char *status = NULL;
        if (rd_engine_status(engine, id, &status) == RD_OK && strstr(status, needle) != NULL) {
            return status;
        }
        rd_string_free(status);
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return NULL;
}

/* Occurrences of `needle` in `haystack`. */
static int count_of(const char *haystack, const char *needle) {
    int n = 0;
    for (const char *at = strstr(haystack, needle); at != NULL; at = strstr(at + 1, needle)) {
        n++;
    }
    return n;
}

/* rd_engine_free with an event subscription and a log stream still open detaches: the
 * executable keeps running (the same process: its one line of output is not repeated), the
 * subscription ends, and an engine started on the same store adopts the deployment. */
static void test_free_with_streams_open_detaches(void) {
    if (getenv("ROBODEPLOY_PROCESS_SHIM") == NULL) {
        printf("test_free_with_streams_open_detaches: skipped, ROBODEPLOY_PROCESS_SHIM is not set\n");
        return;
    }
    char dir[] = "/tmp/rd-c-free-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char options[256];
    snprintf(options, sizeof options, "{\"store\": \"%s/engine.redb\"}", dir);
    char devices[300];
    snprintf(devices, sizeof devices, "%s/devices", dir);
    const char *package =
        "{\"name\": \"echo\", \"version\": \"1\", \"components\": [{\"name\": \"main\","
        " \"placement\": {\"kind\": \"device\", \"runtime\": \"preinstalled\", \"architecture\": \"amd64\"},"
        " \"restartPolicy\": \"always\","
        " \"executables\": [{\"name\": \"talker\", \"shell\": true,"
        " \"command\": [\"echo once-per-start; exec sleep 120\"]}]}]}";
    rd_engine *engine = NULL;
    CHECK_CODE(rd_engine_new(options, &engine), RD_OK);
    CHECK_CODE(rd_engine_add_process_device(engine, DEVICE_R1, devices), RD_OK);
    CHECK_CODE(rd_engine_add_package(engine, package), RD_OK);
    char *id = NULL;
    CHECK_CODE(rd_engine_deploy(engine,
                                "{\"name\": \"echo\", \"package\": \"echo\", \"version\": \"1\","
                                " \"devices\": {\"main\": \"r1\"}}",
                                NULL, &id),
               RD_OK);
    char *status = NULL;
    CHECK_CODE(rd_engine_wait(engine, id, RD_UNTIL_RUNNING, WAIT_MS, &status), RD_OK);
    rd_string_free(status);
    rd_events *events = NULL;
    CHECK_CODE(rd_engine_subscribe(engine, &events), RD_OK);
    rd_log_stream *stream = NULL;
    CHECK_CODE(rd_engine_logs_follow(engine, id, "main", "talker", -1, &stream), RD_OK);

    rd_engine_free(engine);
    char *ev = SENTINEL;
    rd_result r = rd_events_next(events, WAIT_MS, &ev);
    while (r == RD_OK) {
        rd_string_free(ev);
        r = rd_events_next(events, WAIT_MS, &ev);
    }
    CHECK(r == RD_ERR_END_OF_STREAM);

    /* A later engine on the same store and directories finds it running, started once. */
    engine = NULL;
    CHECK_CODE(rd_engine_new(options, &engine), RD_OK);
    CHECK_CODE(rd_engine_add_process_device(engine, DEVICE_R1, devices), RD_OK);
    status = status_once_it_contains(engine, id, "\"status\":\"Running\"");
    CHECK(status != NULL);
    CHECK_CONTAINS(status, "\"phase\":\"Succeeded\"");
    rd_string_free(status);
    char *lines = NULL;
    CHECK_CODE(rd_engine_logs(engine, id, "main", "talker", 50, &lines), RD_OK);
    CHECK(count_of(lines, "once-per-start") == 1);
    rd_string_free(lines);
    CHECK_CODE(rd_engine_shutdown(engine, WAIT_MS), RD_OK);
    rd_engine_free(engine);
    rd_log_stream_free(stream);
    rd_events_free(events);
    rd_string_free(id);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}


/* The lifecycle configuration set through rd_engine_new governs restarts: with three early
 * exits as the crash-loop threshold (the default is five), a program that exits at once is
 * reported in a crash loop after three early exits. Rules broken are named. */
static void test_lifecycle_config(void) {
    rd_engine *engine = SENTINEL_ENGINE;
    CHECK_CODE(rd_engine_new("{\"lifecycle\": {\"backoffFactor\": 40}}", &engine), RD_ERR_INVALID_CONFIG);
    CHECK_LAST_ERROR("argument `options_json`: lifecycle.backoffFactor = 40: must be within 1..=16");
    CHECK_CODE(rd_engine_new("{\"lifecycle\": {\"initialBackoff\": \"2s\", \"maxBackoff\": \"1s\"}}", &engine),
               RD_ERR_INVALID_CONFIG);
    CHECK_LAST_ERROR("lifecycle.maxBackoff = 1000 ms: must be at least initial_backoff");
    CHECK_CODE(rd_engine_new("{\"lifecycle\": {\"crashLoopWindow\": \"0s\"}}", &engine), RD_ERR_INVALID_CONFIG);
    CHECK_LAST_ERROR("lifecycle.crashLoopWindow = 0 ms: must be positive");
    CHECK_CODE(rd_engine_new("{\"lifecycle\": {\"backoff\": \"1s\"}}", &engine), RD_ERR_INVALID_JSON);
    CHECK_LAST_ERROR("unknown field `backoff`");
    CHECK_CODE(rd_engine_new("{\"lifecycle\": {\"minUptime\": \"soon\"}}", &engine), RD_ERR_INVALID_JSON);
    CHECK_LAST_ERROR("\"soon\"");
    CHECK(engine == SENTINEL_ENGINE);

    if (getenv("ROBODEPLOY_PROCESS_SHIM") == NULL) {
        printf("test_lifecycle_config: crash loop skipped, ROBODEPLOY_PROCESS_SHIM is not set\n");
        return;
    }
    char dir[] = "/tmp/rd-c-life-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    engine = NULL;
    CHECK_CODE(rd_engine_new("{\"lifecycle\": {\"initialBackoff\": \"100ms\", \"backoffFactor\": 1,"
                             " \"minUptime\": \"5s\", \"resetAfter\": \"10s\", \"crashLoopExits\": 3,"
                             " \"crashLoopWindow\": \"1m\"}}",
                             &engine),
               RD_OK);
    CHECK_CODE(rd_engine_add_process_device(engine, DEVICE_R1, dir), RD_OK);
    CHECK_CODE(rd_engine_add_package(engine,
                                     "{\"name\": \"crasher\", \"version\": \"1\", \"components\": [{\"name\": \"main\","
                                     " \"placement\": {\"kind\": \"device\", \"runtime\": \"preinstalled\", \"architecture\": \"amd64\"},"
                                     " \"restartPolicy\": \"always\","
                                     " \"executables\": [{\"name\": \"crash\", \"shell\": true, \"command\": [\"exit 3\"]}]}]}"),
               RD_OK);
    char *id = NULL;
    CHECK_CODE(rd_engine_deploy(engine,
                                "{\"name\": \"crasher\", \"package\": \"crasher\", \"version\": \"1\","
                                " \"devices\": {\"main\": \"r1\"}}",
                                NULL, &id),
               RD_OK);
    char *status = status_once_it_contains(engine, id, "DEP_E163");
    CHECK(status != NULL);
    if (status != NULL) {
        CHECK_CONTAINS(status, "\"kind\":\"crashLoop\",\"earlyExits\":3");
        CHECK_CONTAINS(status, "\"status\":\"Error\"");
        rd_string_free(status);
    }
    rd_string_free(id);
    CHECK_CODE(rd_engine_shutdown(engine, WAIT_MS), RD_OK);
    rd_engine_free(engine);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* Docker devices: the options' rules (no engine needed), then, when the harness names the test
 * image (a Docker engine answers), a container deployed, logged and deprovisioned. */
static void test_docker_engine(void) {
    static const char *DOCK =
        "{\"name\": \"dock-1\", \"architecture\": \"amd64\", \"runtime\": \"docker\"}";
    rd_engine *engine = NULL;
    CHECK_CODE(rd_engine_new(NULL, &engine), RD_OK);
    CHECK_CODE(rd_engine_add_docker_device(engine, DOCK, "{\"endpoint\": \"tcp://\"}"), RD_ERR_INVALID_CONFIG);
    CHECK_LAST_ERROR("argument `docker_json`: endpoint = \"tcp://\": a tcp endpoint needs host:port");
    CHECK_CODE(rd_engine_add_docker_device(
                   engine, "{\"name\": \"dock-2\", \"architecture\": \"amd64\", \"runtime\": \"docker\","
                           " \"endpoint\": \"robot-7:2375\"}",
                   NULL),
               RD_ERR_INVALID_CONFIG);
    CHECK_LAST_ERROR("argument `device_json`: endpoint = \"robot-7:2375\"");
    CHECK_CODE(rd_engine_add_docker_device(engine, DOCK, "{\"sshKey\": \"/k\", \"endpoint\": \"tcp://r:1\"}"),
               RD_ERR_INVALID_CONFIG);
    CHECK_LAST_ERROR("sshKey = set: needs an ssh:// endpoint, not \"tcp://r:1\"");
    CHECK_CODE(rd_engine_add_docker_device(engine, DOCK,
                                           "{\"endpoint\": \"tcp://r:2376\", \"tls\": {\"ca\": \"/nonexistent/ca.pem\","
                                           " \"cert\": \"/nonexistent/cert.pem\", \"key\": \"/nonexistent/key.pem\"}}"),
               RD_ERR_SETUP);
    CHECK_LAST_ERROR("ca.pem");
    CHECK_CODE(rd_engine_add_docker_device(engine, DOCK, "{\"endpoint\": \"tcp://r\", \"colour\": 1}"),
               RD_ERR_INVALID_JSON);
    CHECK_LAST_ERROR("colour");
    /* An engine nobody serves: registered (nothing is sent yet), then found offline. */
    CHECK_CODE(rd_engine_add_docker_device(engine,
                                           "{\"name\": \"far\", \"architecture\": \"amd64\", \"runtime\": \"docker\"}",
                                           "{\"endpoint\": \"tcp://127.0.0.1:1\", \"requestTimeout\": \"2s\"}"),
               RD_OK);
    CHECK_CODE(rd_engine_add_docker_device(engine,
                                           "{\"name\": \"far\", \"architecture\": \"arm64v8\", \"runtime\": \"docker\"}",
                                           "{\"endpoint\": \"tcp://127.0.0.1:1\"}"),
               RD_ERR_CONFLICT);
    CHECK_CODE(rd_engine_shutdown(engine, WAIT_MS), RD_OK);
    rd_engine_free(engine);

    const char *image = getenv("ROBODEPLOY_TEST_DOCKER_IMAGE");
    if (image == NULL) {
        printf("test_docker_engine: container part skipped, ROBODEPLOY_TEST_DOCKER_IMAGE is not set\n");
        return;
    }
    engine = NULL;
    CHECK_CODE(rd_engine_new(NULL, &engine), RD_OK);
    CHECK_CODE(rd_engine_add_docker_device(engine, DOCK, NULL), RD_OK); /* the local engine */
    char package[1024];
    snprintf(package, sizeof package,
             "{\"name\": \"boxed\", \"version\": \"1\", \"components\": [{\"name\": \"main\","
             " \"placement\": {\"kind\": \"device\", \"runtime\": \"docker\", \"architecture\": \"amd64\"},"
             " \"restartPolicy\": \"always\","
             " \"executables\": [{\"name\": \"talker\", \"image\": \"%s\","
             " \"command\": [\"sh\", \"-c\", \"echo hello-from-docker; exec sleep 60\"]}]}]}",
             image);
    CHECK_CODE(rd_engine_add_package(engine, package), RD_OK);
    /* The deployment's name is this process's own: the suite runs against the static and the
     * shared library at once on one Docker engine, and an engine refuses (DEP_E410) to start a
     * deployment whose namesake another store started there and still runs. */
    char deployment[128];
    snprintf(deployment, sizeof deployment,
             "{\"name\": \"boxed-%ld\", \"package\": \"boxed\", \"version\": \"1\","
             " \"devices\": {\"main\": \"dock-1\"}}",
             (long)getpid());
    char *id = NULL;
    CHECK_CODE(rd_engine_deploy(engine, deployment, NULL, &id), RD_OK);
    char *status = NULL;
    CHECK_CODE(rd_engine_wait(engine, id, RD_UNTIL_RUNNING, WAIT_MS, &status), RD_OK);
    CHECK_CONTAINS(status, "\"status\":\"Running\"");
    CHECK_CONTAINS(status, "\"device\":\"dock-1\"");
    rd_string_free(status);
    rd_log_stream *stream = NULL;
    CHECK_CODE(rd_engine_logs_follow(engine, id, "main", "talker", -1, &stream), RD_OK);
    char *line = NULL;
    CHECK_CODE(rd_log_stream_next(stream, WAIT_MS, &line), RD_OK);
    CHECK_CONTAINS(line, "\"line\":\"hello-from-docker\"");
    rd_string_free(line);
    rd_log_stream_free(stream);
    char *lines = NULL;
    CHECK_CODE(rd_engine_logs(engine, id, "main", "talker", 5, &lines), RD_OK);
    CHECK_CONTAINS(lines, "hello-from-docker");
    rd_string_free(lines);
    CHECK_CODE(rd_engine_deprovision(engine, id), RD_OK);
    status = NULL;
    CHECK_CODE(rd_engine_wait(engine, id, RD_UNTIL_STOPPED, WAIT_MS, &status), RD_OK);
    CHECK_CONTAINS(status, "\"phase\":\"DeploymentStopped\"");
    rd_string_free(status);
    rd_string_free(id);
    CHECK_CODE(rd_engine_shutdown(engine, WAIT_MS), RD_OK);
    rd_engine_free(engine);
    printf("test_docker_engine: ran\n");
}

int main(void) {
    test_library();
    test_manifests();
    test_simulate();
    test_memory_engine();
    test_free_without_shutdown_and_store();
    test_process_engine();
    test_free_with_streams_open_detaches();
    test_lifecycle_config();
    test_docker_engine();
    return rd_check_summary("test_api");
}

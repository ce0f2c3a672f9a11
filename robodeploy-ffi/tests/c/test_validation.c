/* Requests through the C ABI are checked by the manifest validator (RD_ERR_VALIDATION, a message
 * naming the field, nothing stored); a job's tags (read, add, remove, in the report); and the
 * devices a component can be deployed on. */
#define _POSIX_C_SOURCE 200809L

#include "check.h"

#define WAIT_MS 20000

static const char *DEVICE_R1 =
    "{\"name\": \"r1\", \"architecture\": \"amd64\", \"runtime\": \"preinstalled\"}";
static const char *PACKAGE =
    "{\"name\": \"demo\", \"version\": \"1\", \"components\": [{\"name\": \"main\","
    " \"placement\": {\"kind\": \"device\", \"runtime\": \"preinstalled\", \"architecture\": \"amd64\"},"
    " \"executables\": [{\"name\": \"node\", \"command\": [\"/usr/bin/demo-node\"]}]}]}";
static const char *FLEET =
    "{\"name\": \"lab\", \"robots\": ["
    "{\"name\": \"r1\", \"architecture\": \"amd64\", \"runtime\": \"preinstalled\"}]}";

/* A job whose environment is `env` (a JSON object) and whose tags are `tags`. */
static void job_json(char *buf, size_t n, const char *env, const char *tags) {
    snprintf(buf, n,
             "{\"fleet\": \"lab\", \"application\": \"demo\", \"applicationVersion\": \"1\","
             " \"launchConfig\": {\"packageName\": \"demo\", \"launchFile\": \"demo.launch\","
             " \"environmentVariables\": %s},"
             " \"deploymentConfig\": {\"concurrentDeploymentPercentage\": 100,"
             " \"failureThresholdPercentage\": 100}, \"tags\": %s}",
             env, tags);
}

/* The last call's validation details (JSON) name `json_path` and `rule`. */
#define CHECK_DETAILS(json_path, rule)                                                      \
    do {                                                                                    \
        char rd_details_[4096];                                                             \
        CHECK(rd_last_error_details(rd_details_, sizeof rd_details_) > 0);                 \
        CHECK_CONTAINS(rd_details_, "\"path\":\"" json_path "\"");                         \
        CHECK_CONTAINS(rd_details_, "\"rule\":\"" rule "\"");                              \
    } while (0)

/* As CHECK_DETAILS, and the message names `path` too. */
#define CHECK_REFUSED(path, rule)                                                           \
    do {                                                                                    \
        CHECK_DETAILS(path, rule);                                                          \
        CHECK_LAST_ERROR(path);                                                             \
    } while (0)

static void test_refusals(rd_engine *e) {
    char *id = SENTINEL;
    char job[4096];

    /* Environment variable names and values of a job. */
    job_json(job, sizeof job, "{\"ros_domain\": \"7\"}", "{}");
    CHECK_CODE(rd_engine_create_job(e, job, "tok-lower", &id), RD_ERR_VALIDATION);
    CHECK_REFUSED("spec.launchConfig.environmentVariables.ros_domain", "InvalidEnvName");
    CHECK_LAST_ERROR("ros_domain");
    CHECK(id == SENTINEL);

    job_json(job, sizeof job, "{\"AWS_REGION\": \"eu-west-1\"}", "{}");
    CHECK_CODE(rd_engine_create_job(e, job, NULL, &id), RD_ERR_VALIDATION);
    CHECK_REFUSED("spec.launchConfig.environmentVariables.AWS_REGION", "ReservedEnvName");
    CHECK_LAST_ERROR("reserved");
    CHECK(id == SENTINEL);

    char env[1100];
    char value[1026];
    memset(value, 'v', 1025);
    value[1025] = '\0';
    snprintf(env, sizeof env, "{\"MAP\": \"%s\"}", value);
    job_json(job, sizeof job, env, "{}");
    CHECK_CODE(rd_engine_create_job(e, job, NULL, &id), RD_ERR_VALIDATION);
    CHECK_REFUSED("spec.launchConfig.environmentVariables.MAP", "EnvValueLength");
    CHECK_LAST_ERROR("1025 characters long");
    CHECK(id == SENTINEL);

    /* The token of the refused job was not remembered: it creates a job now. */
    job_json(job, sizeof job, "{\"ROS_DOMAIN\": \"7\"}", "{}");
    CHECK_CODE(rd_engine_create_job(e, job, "tok-lower", &id), RD_OK);
    CHECK(id != SENTINEL);
    char *report = SENTINEL;
    CHECK_CODE(rd_engine_wait_job(e, id, WAIT_MS, &report), RD_OK);
    CHECK_CONTAINS(report, "\"tags\":{}");
    rd_string_free(report);
    rd_string_free(id);
    id = SENTINEL;

    /* Packages: an empty name, duplicate components, an empty command. */
    CHECK_CODE(rd_engine_add_package(e,
                                     "{\"name\": \"\", \"version\": \"2\", \"components\": [{\"name\": \"main\","
                                     " \"placement\": {\"kind\": \"device\", \"runtime\": \"preinstalled\", \"architecture\": \"amd64\"},"
                                     " \"executables\": [{\"name\": \"node\", \"command\": [\"/bin/x\"]}]}]}"),
               RD_ERR_VALIDATION);
    CHECK_REFUSED("spec.name", "InvalidName");
    CHECK_CODE(rd_engine_add_package(e,
                                     "{\"name\": \"twice\", \"version\": \"1\", \"components\": ["
                                     "{\"name\": \"main\", \"placement\": {\"kind\": \"device\", \"runtime\": \"preinstalled\", \"architecture\": \"amd64\"},"
                                     " \"executables\": [{\"name\": \"node\", \"command\": [\"/bin/x\"]}]},"
                                     "{\"name\": \"main\", \"placement\": {\"kind\": \"device\", \"runtime\": \"preinstalled\", \"architecture\": \"amd64\"},"
                                     " \"executables\": [{\"name\": \"node\", \"command\": [\"/bin/x\"]}]}]}"),
               RD_ERR_VALIDATION);
    CHECK_REFUSED("spec.components[1].name", "Duplicate");
    CHECK_CODE(rd_engine_add_package(e,
                                     "{\"name\": \"nocmd\", \"version\": \"1\", \"components\": [{\"name\": \"main\","
                                     " \"placement\": {\"kind\": \"device\", \"runtime\": \"preinstalled\", \"architecture\": \"amd64\"},"
                                     " \"executables\": [{\"name\": \"node\", \"command\": []}]}]}"),
               RD_ERR_VALIDATION);
    CHECK_REFUSED("spec.components[0].executables[0].command", "MissingCommand");
    /* None of them was added: deploying any is refused as an unknown package. */
    CHECK_CODE(rd_engine_deploy(e,
                                "{\"name\": \"t1\", \"package\": \"twice\", \"version\": \"1\","
                                " \"devices\": {\"main\": \"r1\"}}",
                                NULL, &id),
               RD_ERR_NOT_FOUND);
    CHECK(id == SENTINEL);

    /* A deployment's environment, a device, a fleet. */
    CHECK_CODE(rd_engine_deploy(e,
                                "{\"name\": \"d1\", \"package\": \"demo\", \"version\": \"1\","
                                " \"devices\": {\"main\": \"r1\"}, \"env\": {\"lower\": \"x\"}}",
                                NULL, &id),
               RD_ERR_VALIDATION);
    CHECK_REFUSED("spec.env.lower", "InvalidEnvName");
    CHECK(id == SENTINEL);
    CHECK_CODE(rd_engine_add_memory_device(e, "{\"name\": \"Robot_2\", \"architecture\": \"amd64\","
                                              " \"runtime\": \"preinstalled\"}"),
               RD_ERR_VALIDATION);
    CHECK_REFUSED("spec.name", "InvalidName");
    CHECK_LAST_ERROR("Robot_2");
    CHECK_CODE(rd_engine_add_fleet(e, "{\"name\": \"Lab 2\", \"robots\": []}"), RD_ERR_VALIDATION);
    CHECK_REFUSED("spec.name", "InvalidName");
    /* A robot that breaks the rules is named with its index. */
    CHECK_CODE(rd_engine_add_fleet(e, "{\"name\": \"lab2\", \"robots\": [{\"name\": \"Robot_2\","
                                      " \"architecture\": \"amd64\", \"runtime\": \"preinstalled\"}]}"),
               RD_ERR_VALIDATION);
    CHECK_REFUSED("spec.robots[0].name", "InvalidName");
}

static void test_tags(rd_engine *e) {
    char job[4096];
    job_json(job, sizeof job, "{}", "{\"team\": \"nav\", \"site\": \"lab-1\"}");
    char *id = SENTINEL;
    CHECK_CODE(rd_engine_create_job(e, job, NULL, &id), RD_OK);

    char *out = SENTINEL;
    CHECK_CODE(rd_engine_job_tags(e, id, &out), RD_OK);
    CHECK(out != SENTINEL && strcmp(out, "{\"site\":\"lab-1\",\"team\":\"nav\"}") == 0);
    rd_string_free(out);
    out = SENTINEL;
    CHECK_CODE(rd_engine_job(e, id, &out), RD_OK);
    CHECK_CONTAINS(out, "\"tags\":{\"site\":\"lab-1\",\"team\":\"nav\"}");
    rd_string_free(out);

    /* Add and overwrite, then remove (a key the job does not have is ignored). */
    CHECK_CODE(rd_engine_tag_job(e, id, "{\"team\": \"perception\", \"stage\": \"beta\"}"), RD_OK);
    CHECK_CODE(rd_engine_untag_job(e, id, "[\"site\", \"absent\"]"), RD_OK);
    out = SENTINEL;
    CHECK_CODE(rd_engine_job_tags(e, id, &out), RD_OK);
    CHECK(out != SENTINEL && strcmp(out, "{\"stage\":\"beta\",\"team\":\"perception\"}") == 0);
    rd_string_free(out);

    /* RoboMaker's rules: refused with the field named, nothing changed. */
    CHECK_CODE(rd_engine_tag_job(e, id, "{\"aws:owner\": \"me\"}"), RD_ERR_VALIDATION);
    CHECK_DETAILS("spec.tags[\\\"aws:owner\\\"]", "InvalidTagKey");
    CHECK_LAST_ERROR("spec.tags[\"aws:owner\"]");
    char tags[400];
    char value[258];
    memset(value, 'v', 257);
    value[257] = '\0';
    snprintf(tags, sizeof tags, "{\"note\": \"%s\"}", value);
    CHECK_CODE(rd_engine_tag_job(e, id, tags), RD_ERR_VALIDATION);
    CHECK_REFUSED("spec.tags.note", "InvalidTagValue");
    char many[2048];
    size_t used = (size_t)snprintf(many, sizeof many, "{");
    for (int i = 0; i < 49; i++) {
        used += (size_t)snprintf(many + used, sizeof many - used, "%s\"t%d\": \"x\"", i ? ", " : "", i);
    }
    snprintf(many + used, sizeof many - used, "}");
    CHECK_CODE(rd_engine_tag_job(e, id, many), RD_ERR_VALIDATION); /* 2 + 49 = 51 > 50 */
    CHECK_REFUSED("spec.tags", "TooMany");
    CHECK_CODE(rd_engine_untag_job(e, id, "[\"\"]"), RD_ERR_VALIDATION);
    CHECK_DETAILS("spec.tags[\\\"\\\"]", "InvalidTagKey");
    CHECK_LAST_ERROR("spec.tags[\"\"]");
    CHECK_CODE(rd_engine_tag_job(e, id, "[\"not\", \"an object\"]"), RD_ERR_INVALID_JSON);
    CHECK_CODE(rd_engine_untag_job(e, id, "{\"not\": \"an array\"}"), RD_ERR_INVALID_JSON);
    out = SENTINEL;
    CHECK_CODE(rd_engine_job_tags(e, id, &out), RD_OK);
    CHECK(out != SENTINEL && strcmp(out, "{\"stage\":\"beta\",\"team\":\"perception\"}") == 0);
    rd_string_free(out);

    out = SENTINEL;
    const char *ghost = "00000000-0000-0000-0000-000000000007";
    CHECK_CODE(rd_engine_job_tags(e, ghost, &out), RD_ERR_NOT_FOUND);
    CHECK_CODE(rd_engine_tag_job(e, ghost, "{\"a\": \"b\"}"), RD_ERR_NOT_FOUND);
    CHECK_CODE(rd_engine_untag_job(e, ghost, "[\"a\"]"), RD_ERR_NOT_FOUND);
    CHECK_CODE(rd_engine_job_tags(e, "not-an-id", &out), RD_ERR_INVALID_ARGUMENT);
    CHECK(out == SENTINEL);
    rd_string_free(id);
}

static void test_eligible_devices(rd_engine *e) {
    CHECK_CODE(rd_engine_add_memory_device(e, "{\"name\": \"pi\", \"architecture\": \"arm64v8\","
                                              " \"runtime\": \"preinstalled\"}"),
               RD_OK);
    char *out = SENTINEL;
    CHECK_CODE(rd_engine_eligible_devices(e, "demo", "1", "main", &out), RD_OK);
    CHECK_CONTAINS(out, "\"name\":\"r1\"");
    CHECK(out != SENTINEL && strstr(out, "\"name\":\"pi\"") == NULL);
    rd_string_free(out);
    out = SENTINEL;
    CHECK_CODE(rd_engine_eligible_devices(e, "demo", "1", "nope", &out), RD_ERR_NOT_FOUND);
    CHECK_LAST_ERROR("no component \"nope\"");
    CHECK_CODE(rd_engine_eligible_devices(e, "demo", "9", "main", &out), RD_ERR_NOT_FOUND);
    CHECK(out == SENTINEL);
}

int main(void) {
    rd_engine *e = NULL;
    CHECK_CODE(rd_engine_new("{\"healthInterval\": \"200ms\"}", &e), RD_OK);
    CHECK_CODE(rd_engine_add_memory_device(e, DEVICE_R1), RD_OK);
    CHECK_CODE(rd_engine_add_package(e, PACKAGE), RD_OK);
    CHECK_CODE(rd_engine_add_fleet(e, FLEET), RD_OK);
    test_refusals(e);
    test_tags(e);
    test_eligible_devices(e);
    CHECK_CODE(rd_engine_shutdown(e, WAIT_MS), RD_OK);
    rd_engine_free(e);
    return rd_check_summary("test_validation");
}

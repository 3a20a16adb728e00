/*
 * A small agent: holds a trust root, loads signed channel files through the chanval C ABI's one
 * load path (size cap, signatures, channel, targets, contract digest, versions, expiry, rollout,
 * validation for its own profile), keeps the last good content in a store, and evaluates events
 * on what it accepted.
 *
 *   agent [--allow-unsigned] [--store DIR] PROFILE ROOT FILE...
 *
 * PROFILE is sensor-7.11 or sensor-7.12 (from the compiled-in schema), ROOT a trust root from
 * `chanval root`. Files are offered in order as updates of channel 291; with --store each is
 * installed into the last-known-good store in DIR, and what runs at the end is what the store
 * loads. A file that is a brake statement (`chanval brake`: it starts with "CVBK") is checked
 * and, with --store, applied: a recall of the running content sends the store back. Exit status: 0 when every file loaded, 1 when at least one was refused, 2 on a usage or
 * I/O error. The event structures come from `chanval schema codegen --lang c`: the integration
 * code below names every input its profile supplies, and only those.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chanval.h"
#include "chanval_schema.h"

#define CHANNEL 291

/* Every member named, in order: valid C99 and C++20 alike (the tests build this file as both). */
#define BYTES(s) ((chanval_value){.kind = CHANVAL_BYTES, .bytes = (const uint8_t *)(s), .len = sizeof(s) - 1, .number = 0})
#define UNSIGNED(n) ((chanval_value){.kind = CHANVAL_UNSIGNED, .bytes = NULL, .len = 0, .number = (n)})
#define FLAGS(n) ((chanval_value){.kind = CHANVAL_FLAGS, .bytes = NULL, .len = 0, .number = (n)})

/* The 20 inputs both sensors build from an IPC event... */
#define COMMON_INPUTS(pipe)                                                                        \
    .pipe_name = BYTES(pipe), .client_image = BYTES("C:\\Windows\\System32\\rundll32.exe"),        \
    .server_image = BYTES("C:\\Windows\\System32\\spoolsv.exe"), .client_pid = UNSIGNED(4242),     \
    .server_pid = UNSIGNED(1337), .session_id = UNSIGNED(1), .access_mask = FLAGS(3),              \
    .integrity_level = UNSIGNED(0x2000), .client_user = BYTES("bob"), .server_user = BYTES("SYSTEM"), \
    .protocol = UNSIGNED(2), .message_type = UNSIGNED(7), .message_size = UNSIGNED(70000),         \
    .client_cmdline = BYTES("rundll32.exe x.dll,Run"), .server_cmdline = BYTES("spoolsv.exe"),     \
    .client_flags = FLAGS(0), .server_flags = FLAGS(0), .endpoint = BYTES("ncalrpc"),              \
    .transport = UNSIGNED(1), .direction = UNSIGNED(0)

/* Reads a whole file, refusing anything larger than `cap` bytes (endless data). */
static unsigned char *read_file(const char *path, size_t cap, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    size_t size = 0, n = 0;
    for (;;) {
        if (n == size) {
            if (size > cap) break;
            size_t next = size ? size * 2 : 4096;
            unsigned char *grown = (unsigned char *)realloc(buf, next);
            if (!grown) { free(buf); fclose(f); return NULL; }
            buf = grown;
            size = next;
        }
        size_t got = fread(buf + n, 1, size - n, f);
        n += got;
        if (got == 0) break;
    }
    int failed = ferror(f) || n > cap;
    fclose(f);
    if (failed) { free(buf); return NULL; }
    *len = n;
    return buf;
}

static void print_matches(const char *what, int32_t rc, const uint32_t *ids, size_t n) {
    printf("  %s: ", what);
    if (rc != CHANVAL_OK) { printf("error %d\n", rc); return; }
    printf("%zu match(es)", n);
    for (size_t i = 0; i < n; i++) printf(" %u", ids[i]);
    printf("\n");
}

static void evaluate(const char *profile, const chanval_content *content) {
    uint32_t ids[16];
    size_t n = 0;
    int32_t rc;
    if (strcmp(profile, CHANVAL_PROFILE_SENSOR_7_12) == 0) {
        chanval_sensor_7_12_ipc_channel_event temp = {COMMON_INPUTS("\\\\.\\pipe\\spoolss"),
                                                      .peer_path = BYTES("C:\\Users\\bob\\AppData\\Local\\Temp\\x.dll")};
        rc = chanval_evaluate_sensor_7_12_ipc_channel(content, &temp, ids, 16, &n);
        print_matches("event from a temp folder", rc, ids, n);
        chanval_sensor_7_12_ipc_channel_event sys = {COMMON_INPUTS("\\\\.\\pipe\\postex_1"),
                                                     .peer_path = BYTES("C:\\Windows\\System32\\x.dll")};
        rc = chanval_evaluate_sensor_7_12_ipc_channel(content, &sys, ids, 16, &n);
        print_matches("event from system32", rc, ids, n);
        /* Too few inputs for this profile: refused, not read past. */
        rc = chanval_evaluate(content, CHANVAL_TYPE_IPC_CHANNEL, (const chanval_value *)&sys, 20, ids, 16, &n);
        print_matches("event of 20 inputs", rc, ids, n);
    } else {
        chanval_sensor_7_11_ipc_channel_event ev = {COMMON_INPUTS("\\\\.\\pipe\\postex_1")};
        rc = chanval_evaluate_sensor_7_11_ipc_channel(content, &ev, ids, 16, &n);
        print_matches("event", rc, ids, n);
    }
}

static void print_findings(const chanval_finding *findings, size_t found, size_t capacity) {
    for (size_t k = 0; k < found && k < capacity; k++) {
        const chanval_finding *f = &findings[k];
        printf("  %s %s bytes %llu..%llu", (const char *)f->code, f->severity == 2 ? "error" : "warning",
               (unsigned long long)f->byte_start, (unsigned long long)f->byte_end);
        if (f->instance_id != UINT32_MAX) printf(" instance %u", f->instance_id);
        if (f->field_index != UINT16_MAX) printf(" field index %u", f->field_index);
        printf("\n");
    }
}

int main(int argc, char **argv) {
    int arg = 1;
    uint32_t flags = 0;
    const char *store_dir = NULL;
    for (; arg < argc && strncmp(argv[arg], "--", 2) == 0; arg++) {
        if (strcmp(argv[arg], "--allow-unsigned") == 0) flags |= CHANVAL_LOAD_ALLOW_UNSIGNED;
        else if (strcmp(argv[arg], "--store") == 0 && arg + 1 < argc) store_dir = argv[++arg];
        else { fprintf(stderr, "unknown option %s\n", argv[arg]); return 2; }
    }
    if (argc - arg < 3) {
        fprintf(stderr, "usage: %s [--allow-unsigned] [--store DIR] PROFILE ROOT FILE...\n", argv[0]);
        return 2;
    }
    const char *profile = argv[arg];
    size_t root_len = 0;
    unsigned char *root_bytes = read_file(argv[arg + 1], 1 << 16, &root_len);
    if (!root_bytes) { fprintf(stderr, "%s: cannot read\n", argv[arg + 1]); return 2; }
    chanval_root *root = NULL;
    int32_t rc = chanval_root_open(root_bytes, root_len, &root);
    free(root_bytes);
    if (rc != CHANVAL_OK) { fprintf(stderr, "%s: not a trust root (status %d)\n", argv[arg + 1], rc); return 2; }

    chanval_store *store = NULL;
    if (store_dir && chanval_store_open(store_dir, 3, &store) != CHANVAL_OK) {
        fprintf(stderr, "%s: cannot open the store\n", store_dir);
        chanval_root_free(root);
        return 2;
    }
    chanval_agent_config config = {
        .profile = profile, .root = root, .channel = CHANNEL, .flags = flags, .running_version = 0,
        .now = (uint64_t)time(NULL), .agent_id = (const uint8_t *)"agent-0001", .agent_id_len = 10,
        .choice = CHANVAL_CHOICE_GENERAL, .pinned_version = 0,
    };
    int refused = 0;
    for (int i = arg + 2; i < argc; i++) {
        size_t len = 0;
        /* A channel file is at most 256 MiB plus its envelope; nothing bigger is read. */
        unsigned char *bytes = read_file(argv[i], (size_t)256 << 20 | 8192, &len);
        if (!bytes) { fprintf(stderr, "%s: cannot read\n", argv[i]); refused = 2; break; }
        if (len >= 4 && memcmp(bytes, "CVBK", 4) == 0) {
            /* A pause, resume or recall: signed by release keys, no content, no gate behind it. */
            chanval_brake_info info;
            rc = chanval_brake_check(&config, bytes, len, &info);
            uint32_t outcome = 0;
            if (rc == CHANVAL_OK && store) rc = chanval_store_apply_brake(store, &config, bytes, len, &outcome);
            free(bytes);
            if (rc != CHANVAL_OK) {
                refused = 1;
                printf("%s: brake REFUSED (status %d)\n", argv[i], rc);
                continue;
            }
            printf("%s: brake %s of versions %llu..%llu%s%s\n", argv[i],
                   info.action == CHANVAL_BRAKE_RECALL ? "recall" : info.action == CHANVAL_BRAKE_PAUSE ? "pause" : "resume",
                   (unsigned long long)info.first_version, (unsigned long long)info.last_version,
                   (outcome & CHANVAL_BRAKE_APPLIED) ? ", applied" : "",
                   (outcome & CHANVAL_BRAKE_ROLLED_BACK) ? ", the running content was recalled" : "");
            continue;
        }
        chanval_finding findings[8];
        size_t found = 0;
        chanval_content *content = NULL;
        if (store)
            rc = chanval_store_install(store, &config, bytes, len, findings, 8, &found, &content);
        else
            rc = chanval_load(&config, bytes, len, findings, 8, &found, &content);
        free(bytes); /* nothing is kept of them */
        if (rc == CHANVAL_ERR_UNKNOWN_PROFILE) { fprintf(stderr, "unknown profile %s\n", profile); refused = 2; break; }
        if (rc != CHANVAL_OK) {
            refused = 1;
            printf("%s: REFUSED under %s (status %d)\n", argv[i], profile, rc);
            print_findings(findings, found, 8);
            continue;
        }
        /* The next update must be newer than this one. */
        config.flags |= CHANVAL_LOAD_HAS_RUNNING_VERSION;
        config.running_version = chanval_content_version(content);
        printf("%s: loaded under %s (content version %llu)\n", argv[i], profile,
               (unsigned long long)config.running_version);
        evaluate(profile, content);
        chanval_content_free(content);
    }
    if (store && refused != 2) {
        /* What a restart runs: the store's active slot, verified again through the load path. */
        chanval_content *content = NULL;
        uint32_t status = 0;
        rc = chanval_store_load(store, &config, &content, &status);
        if (rc == CHANVAL_OK) {
            uint64_t running = chanval_content_version(content);
            printf("restart: the store runs content version %llu%s\n", (unsigned long long)running,
                   (status & CHANVAL_STORE_ROLLED_BACK) ? " (rolled back)" : "");
            chanval_content_free(content);
            /* Healthy on this version: it is proven, and the fallback from now on. */
            chanval_store_mark_healthy(store, running);
        } else {
            printf("restart: nothing to run (status %d)\n", rc);
        }
        chanval_store_info info;
        if (chanval_store_status(store, &config, &info) == CHANVAL_OK) {
            if (info.has_active) printf("store: active version %llu", (unsigned long long)info.active_version);
            else printf("store: nothing active");
            printf(", %u barred range(s), floor %llu\n", info.barred_ranges,
                   (unsigned long long)info.floor);
        }
    }
    /* Null is harmless. */
    chanval_content_free(NULL);
    chanval_store_free(store);
    chanval_root_free(root);
    return refused;
}

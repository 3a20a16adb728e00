/*
 * A small agent: loads channel files through the chanval C ABI, refuses what its profile cannot
 * run, and evaluates events on what it accepts.
 *
 *   agent PROFILE FILE...     (PROFILE: sensor-7.11 or sensor-7.12, from the compiled-in schema)
 *
 * Exit status: 0 when every file loaded, 1 when at least one was refused, 2 on a usage or I/O
 * error. The event structures come from `chanval schema codegen --lang c`: the integration code
 * below names every input its profile supplies, and only those.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chanval.h"
#include "chanval_schema.h"

#define BYTES(s) ((chanval_value){.kind = CHANVAL_BYTES, .bytes = (const uint8_t *)(s), .len = sizeof(s) - 1})
#define UNSIGNED(n) ((chanval_value){.kind = CHANVAL_UNSIGNED, .number = (n)})
#define FLAGS(n) ((chanval_value){.kind = CHANVAL_FLAGS, .number = (n)})

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

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            size_t next = cap ? cap * 2 : 4096;
            unsigned char *grown = realloc(buf, next);
            if (!grown) { free(buf); fclose(f); return NULL; }
            buf = grown;
            cap = next;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int failed = ferror(f);
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

static int32_t evaluate(const char *profile, const chanval_content *content) {
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
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s PROFILE FILE...\n", argv[0]);
        return 2;
    }
    const char *profile = argv[1];
    int refused = 0;
    for (int i = 2; i < argc; i++) {
        size_t len = 0;
        unsigned char *bytes = read_file(argv[i], &len);
        if (!bytes) { fprintf(stderr, "%s: cannot read\n", argv[i]); return 2; }
        chanval_finding findings[8];
        size_t found = 0;
        chanval_content *content = NULL;
        int32_t rc = chanval_load(profile, bytes, len, findings, 8, &found, &content);
        free(bytes); /* chanval_load copied what it keeps */
        if (rc == CHANVAL_ERR_UNKNOWN_PROFILE) { fprintf(stderr, "unknown profile %s\n", profile); return 2; }
        if (rc != CHANVAL_OK) {
            refused = 1;
            printf("%s: REFUSED under %s (status %d)\n", argv[i], profile, rc);
            for (size_t k = 0; k < found && k < 8; k++) {
                const chanval_finding *f = &findings[k];
                printf("  %s %s bytes %llu..%llu", (const char *)f->code, f->severity == 2 ? "error" : "warning",
                       (unsigned long long)f->byte_start, (unsigned long long)f->byte_end);
                if (f->instance_id != UINT32_MAX) printf(" instance %u", f->instance_id);
                if (f->field_index != UINT16_MAX) printf(" field index %u", f->field_index);
                printf("\n");
            }
            continue;
        }
        printf("%s: loaded under %s\n", argv[i], profile);
        evaluate(profile, content);
        chanval_content_free(content);
    }
    /* Null is harmless. */
    chanval_content_free(NULL);
    return refused;
}

/* Must not compile: sensor 7.11 supplies 20 inputs for ipc_channel; there is no field 21. */
#include "chanval.h"
#include "chanval_schema.h"

int main(void) {
    chanval_sensor_7_11_ipc_channel_event ev = {
        .peer_path = {.kind = CHANVAL_BYTES},
    };
    (void)ev;
    return 0;
}

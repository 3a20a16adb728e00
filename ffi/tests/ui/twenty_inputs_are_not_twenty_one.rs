// An event built by sensor 7.11's integration code has 20 inputs; code expecting sensor 7.12's
// 21 does not compile.
use chanval::Value;
use chanval_c::schema::sensor_7_11::IpcChannel;

fn for_sensor_7_12<'e>(inputs: &IpcChannel<'e>) -> [Value<'e>; 21] {
    inputs.event()
}

fn main() {}

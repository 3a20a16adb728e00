// Sensor 7.11 supplies 20 inputs for ipc_channel: integration code cannot read a 21st.
use chanval_c::schema::sensor_7_11::IpcChannel;

fn peer_path<'e>(inputs: &IpcChannel<'e>) -> &'e [u8] {
    inputs.peer_path
}

fn main() {}

//! The remote (Zenoh) wire decoder: any bytes decode to a message or to a named error, as
//! calls, answers, hello, events and log items; a decoded message encodes and decodes back
//! to itself. No panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use robodeploy_zenoh::wire::{Answer, Event, Hello, LogItem, Numbered, Request, decode, encode};

fn round_trip<T>(bytes: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    match decode::<T>(bytes) {
        Ok(message) => {
            let again: T = decode(&encode(&message)).expect("an encoded message decodes");
            assert_eq!(again, message);
        }
        Err(e) => assert!(!e.to_string().is_empty(), "{e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    round_trip::<Request>(data);
    round_trip::<Answer>(data);
    round_trip::<Hello>(data);
    round_trip::<Event>(data);
    round_trip::<Numbered<LogItem>>(data);
});

//! End-to-end tests of the emulator over real loopback sockets.

mod auth;
mod cli;
mod common;
mod results;
mod server;
mod upload;

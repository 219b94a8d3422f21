//! End-to-end tests of the emulator over real loopback sockets.

mod annotations;
mod auth;
mod cli;
mod common;
mod entities;
mod files;
mod results;
mod server;
mod tags;
mod upload;
mod upload_v2;
mod workflows;

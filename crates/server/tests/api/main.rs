//! Integration tests: each spawns the real application on a random port with
//! a fresh database and talks HTTP to it. One binary, so it links once.

mod audit;
mod auth;
mod authorization;
mod bias;
mod cli;
mod conformance;
mod content;
mod crash;
mod data_rights;
mod deploy;
mod embeddings;
mod helpers;
mod language_model;
mod marketplace;
mod notifications;
mod ops;
mod outbound;
mod portal;
mod rate_limits;
mod recovery;
mod search;
mod submissions;
mod traces;
mod validation;
mod voice;

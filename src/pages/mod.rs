//! The pages of the UI, each with the server functions it calls.

pub mod account;
pub mod actions;
pub mod alerts;
pub mod chart;
pub mod event;
pub mod guard;
pub mod issue;
pub mod issues;
pub mod login;
pub mod project;
pub mod projects;
pub mod releases;
pub mod setup;
pub mod tracker;
pub mod users;

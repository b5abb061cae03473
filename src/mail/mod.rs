//! Mail: messages, questions and reminders between agents and the operator,
//! and typing them into an agent with proof that it took them (deliver).

pub mod deliver;

//! `rem ask` and `rem dream`: the agent's side over a chat model (docs/agent.md).

use anyhow::Result;
use rem_host::agent::{self, AskOptions, DreamOptions, Window};
use rem_host::llm::{self, ChatModel};

use crate::cli::Global;
use crate::output;

/// The chat model `--llm` names, else `$P8_DEFAULT_LLM`.
pub fn model(llm: Option<&str>) -> Result<Box<dyn ChatModel>> {
    Ok(match llm {
        Some(m) => llm::named(m)?,
        None => llm::from_env()?,
    })
}

/// `rem ask`.
pub fn ask(g: &Global, question: &str, options: &AskOptions, llm: Option<&str>) -> Result<()> {
    let model = model(llm)?;
    let db = super::open(g)?;
    let out = agent::ask(db.as_ref(), model.as_ref(), question, options)?;
    let value = if options.plan_only {
        serde_json::json!({
            "query": out.query, "query_type": out.query_type, "confidence": out.confidence,
            "reasoning": out.explanation, "requires_search": out.requires_search,
            "model": out.model, "tokens": out.tokens,
        })
    } else {
        serde_json::to_value(&out)?
    };
    match (g.format, &value["results"]) {
        // A table shows the rows; the plan goes to stderr so stdout stays the data.
        (crate::cli::Format::Table | crate::cli::Format::Csv, serde_json::Value::Array(rows)) => {
            eprintln!("query: {} ({}; confidence {:.2})", out.query, out.query_type, out.confidence);
            output::value(g.format, &serde_json::Value::Array(rows.clone()))
        }
        _ => output::value(g.format, &value),
    }
}

/// The period `rem dream` reads.
pub fn window(lookback_hours: f64, start: Option<&str>, end: Option<&str>) -> Result<Window> {
    Ok(match (start, end) {
        (Some(s), Some(e)) => Window::between(s, e)?,
        _ => Window::lookback(lookback_hours)?,
    })
}

/// `rem dream`.
pub fn dream(g: &Global, options: &DreamOptions, llm: Option<&str>, verbose: bool) -> Result<()> {
    let model = model(llm)?;
    let db = super::open(g)?;
    let report = agent::dream(db.as_ref(), model.as_ref(), options)?;
    let mut value = serde_json::to_value(&report)?;
    if !(verbose || options.dry_run)
        && let Some(o) = value.as_object_mut()
    {
        o.remove("writes");
    }
    output::value(g.format, &value)
}

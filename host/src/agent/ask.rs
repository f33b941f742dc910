//! `rem ask` / `query_natural_language`: a question in words becomes one REM SQL read
//! statement planned by a chat model, checked by the engine before it runs.
//!
//! The model sees the tenant's tables ([`super::catalog`]) and REM's dialect, and answers a
//! plan `{query, query_type, confidence, reasoning, requires_search}` (the predecessor's shape,
//! plus `query_type`). REM refuses a plan that writes, and compiles the query with
//! [`Api::prepare`] (nothing read); a query that does not compile goes back to the model once
//! with the engine's error. When the query returns no rows and stages are left, the model is
//! told so and asked once more (multi-stage).

use serde::Serialize;
use serde_json::{Value, json};

use super::catalog::{self, TableInfo};
use super::{check_read, parse};
use crate::Api;
use crate::error::{Error, Result};
use crate::llm::{ChatMessage, ChatModel, ChatRequest, Tokens, chat_json};

/// Options of [`ask`].
#[derive(Debug, Clone)]
pub struct AskOptions {
    /// Show the model only this table (default: every table of the tenant).
    pub table: Option<String>,
    /// Plans tried at most (1 = no second try after an empty result). Default 3.
    pub max_stages: u32,
    /// Return the first checked plan without running it (`rem ask --plan`).
    pub plan_only: bool,
}

impl Default for AskOptions {
    fn default() -> Self {
        AskOptions { table: None, max_stages: 3, plan_only: false }
    }
}

/// A plan as the model gave it (after the engine's check).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The REM SQL statement.
    pub query: String,
    /// The statement kind as the engine compiled it: `select`, `search`, `lookup`, `traverse`
    /// or `explain` (the model's own claim is replaced by this).
    pub query_type: String,
    /// The model's confidence, 0 to 1 (clamped).
    pub confidence: f64,
    /// Why the model chose this query.
    pub reasoning: String,
    /// Whether the model thought the question needs semantic search.
    pub requires_search: bool,
}

/// One query run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    /// The statement.
    pub query: String,
    /// Its kind.
    pub query_type: String,
    /// Rows it returned.
    pub rows: usize,
}

/// What [`ask`] returns: the last plan's rows, or the plan alone with `plan_only`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AskOutcome {
    /// The rows of the last stage (empty with `plan_only`).
    pub results: Vec<Value>,
    /// The last stage's statement.
    pub query: String,
    /// Its kind (`select`, `search`, ...).
    pub query_type: String,
    /// The model's confidence in it, 0 to 1.
    pub confidence: f64,
    /// The model's reasoning for it.
    pub explanation: String,
    /// Whether the model thought the question needs semantic search.
    pub requires_search: bool,
    /// Every statement run, in order (empty with `plan_only`).
    pub stages: Vec<Stage>,
    /// The model's name.
    pub model: String,
    /// Tokens used.
    pub tokens: Tokens,
}

/// The answer shape asked of the model (OpenAI `response_format` `json_schema`).
pub fn plan_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "one REM SQL read statement"},
            "query_type": {"type": "string", "enum": ["select", "search", "lookup", "traverse"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reasoning": {"type": "string"},
            "requires_search": {"type": "boolean"}
        },
        "required": ["query", "query_type", "confidence", "reasoning", "requires_search"],
        "additionalProperties": false
    })
}

/// REM SQL as the model must write it (docs/design.md, Query).
const DIALECT: &str = "\
REM SQL (one statement, reads only):
- SELECT <fields | * | COUNT(*) | SUM/AVG/MIN/MAX(f)> FROM <table> [WHERE <predicate>] [GROUP BY f [HAVING ...]] \
[ORDER BY f [ASC|DESC]] [LIMIT n] [OFFSET n]. Predicates: = <> < <= > >=, BETWEEN, IN (...), LIKE '%x%', \
IS [NOT] NULL, AND, OR, NOT, LOWER(f), UPPER(f), 'v' = ANY(list_field). Strings take single quotes; double quotes \
name a column. No JOINs, subqueries, CASE, CAST or arithmetic.
- SEARCH '<text>' IN <table> [WHERE <predicate>] [LIMIT n]: semantic search over the table's embedded fields, best \
first. Use it when the question is about meaning or topic rather than exact values.
- LOOKUP '<key>'[, '<key>']: rows by natural key, in any table.
- TRAVERSE FROM '<id or key>' DEPTH n DIRECTION out|in|both [TYPE 'rel', ...] [LIMIT n]: walk the graph of edges.
";

fn system_prompt(tables: &[TableInfo]) -> String {
    format!(
        "You turn a question about an agent's memory into one REM SQL statement that answers it.\n\n{DIALECT}\n\
         The tables:\n{}\n\
         Answer with a JSON object only: {{\"query\": \"<statement>\", \"query_type\": \"select|search|lookup|traverse\", \
         \"confidence\": <0 to 1>, \"reasoning\": \"<one or two sentences>\", \"requires_search\": <true|false>}}. \
         Use only the tables and fields listed; prefer exact predicates on indexed fields, and SEARCH for topics.",
        catalog::prompt_text(tables)
    )
}

/// Ask `model` to plan a query for `question` and run it against `api` (see the module
/// documentation). Errors: `Llm` (no answer, no JSON, or a query that still does not compile
/// after one correction, or a plan that writes twice), `InvalidArgument` (an empty question,
/// or a tenant without tables), `SchemaNotFound` (an unknown `table`), and the engine's errors
/// from running the checked query.
pub fn ask(api: &dyn Api, model: &dyn ChatModel, question: &str, options: &AskOptions) -> Result<AskOutcome> {
    if question.trim().is_empty() {
        return Err(Error::InvalidArgument("the question is empty".into()));
    }
    let tables = catalog::describe_tables(api, options.table.as_deref())?;
    if tables.is_empty() {
        return Err(Error::InvalidArgument(
            "the database has no tables to ask about: register schemas first (`rem init`, `rem schema add`)".into(),
        ));
    }
    let mut messages = vec![ChatMessage::system(system_prompt(&tables)), ChatMessage::user(question)];
    let mut tokens = Tokens::default();
    let mut stages: Vec<Stage> = Vec::new();
    let mut last_rows: Vec<Value> = Vec::new();
    // One correction per question: a query the engine refuses, before or while it runs.
    let mut corrections = 1u32;
    let max_stages = options.max_stages.max(1);
    loop {
        let plan = plan_once(api, model, &mut messages, &mut tokens, &mut corrections)?;
        if options.plan_only {
            return Ok(outcome(plan, Vec::new(), stages, model, tokens));
        }
        // The same query again: its answer is already known.
        if stages.iter().any(|s| s.query == plan.query) {
            return Ok(outcome(plan, last_rows, stages, model, tokens));
        }
        let rows = match api.query(&plan.query) {
            Ok(text) => match parse(&text)? {
                Value::Array(rows) => rows,
                other => vec![other],
            },
            Err(e @ (Error::InvalidQuery { .. } | Error::InvalidArgument(_) | Error::Unsupported(_)))
                if corrections > 0 =>
            {
                corrections -= 1;
                messages.push(ChatMessage::user(format!(
                    "REM refused that query when it ran: {e}. Answer again with a corrected plan (same JSON shape)."
                )));
                continue;
            }
            Err(e) => return Err(e),
        };
        stages.push(Stage { query: plan.query.clone(), query_type: plan.query_type.clone(), rows: rows.len() });
        if !rows.is_empty() || stages.len() as u32 >= max_stages {
            return Ok(outcome(plan, rows, stages, model, tokens));
        }
        last_rows = rows;
        messages.push(ChatMessage::user(format!(
            "`{}` returned no rows. If another query could answer the question (other values, LIKE, SEARCH, another \
             table), answer with it; if no rows is the true answer, answer with the same query.",
            plan.query
        )));
    }
}

fn outcome(plan: Plan, results: Vec<Value>, stages: Vec<Stage>, model: &dyn ChatModel, tokens: Tokens) -> AskOutcome {
    AskOutcome {
        results,
        query: plan.query,
        query_type: plan.query_type,
        confidence: plan.confidence,
        explanation: plan.reasoning,
        requires_search: plan.requires_search,
        stages,
        model: model.name(),
        tokens,
    }
}

/// One plan, checked: the model's answer, and another when the engine refuses it while
/// `corrections` are left (one per question).
fn plan_once(
    api: &dyn Api,
    model: &dyn ChatModel,
    messages: &mut Vec<ChatMessage>,
    tokens: &mut Tokens,
    corrections: &mut u32,
) -> Result<Plan> {
    loop {
        let request =
            ChatRequest { messages: messages.clone(), schema: Some(("rem_query_plan".into(), plan_schema())) };
        let answer = chat_json(model, request, tokens)?;
        messages.push(ChatMessage::assistant(Value::Object(answer.clone()).to_string()));
        let query = answer.get("query").and_then(Value::as_str).map(str::trim).unwrap_or_default().to_string();
        let checked = if query.is_empty() {
            Err(Error::InvalidArgument("the plan has no `query`".into()))
        } else {
            check_read(api, &query)
        };
        match checked {
            Ok(kind) => {
                return Ok(Plan {
                    query,
                    query_type: kind,
                    confidence: answer.get("confidence").and_then(Value::as_f64).unwrap_or(0.0).clamp(0.0, 1.0),
                    reasoning: answer.get("reasoning").and_then(Value::as_str).unwrap_or_default().to_string(),
                    requires_search: answer.get("requires_search").and_then(Value::as_bool).unwrap_or(false),
                });
            }
            Err(e) if *corrections > 0 => {
                *corrections -= 1;
                messages.push(ChatMessage::user(format!(
                    "REM refused that query: {e}. Answer again with a corrected plan (same JSON shape)."
                )));
            }
            Err(e) => {
                return Err(Error::Llm(format!(
                    "the model's query still fails after one correction: `{query}`: {e}; rephrase the question, name \
                     the table with --table, or try a stronger model"
                )));
            }
        }
    }
}

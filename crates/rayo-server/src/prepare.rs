//! Work done for a component the engine admitted, before it is built: documents fetched
//! (through the per-URL cache, from the operator's allowed sources only) and rendered to
//! audio, grammars fetched. Runs as a task beside the core; the core holds the admitted
//! command ([`rayo_call::PendingComponent`]), and the client's later stanzas, until the
//! result is in.

use std::collections::HashMap;

use rayo_call::Refusal;
use rayo_media::fetch::Error;
use rayo_media::input::FetchedGrammar;
use rayo_media::sources::Refused;
use rayo_proto::command::ComponentStart;
use rayo_proto::generated::input::Input;

use crate::policy::{refusal, Prepared};

pub use rayo_media::fetch::Cache;

async fn grammars(
    input: &Input,
    cache: &Cache,
) -> Result<HashMap<String, FetchedGrammar>, Refusal> {
    let mut out = HashMap::new();
    for g in &input.grammars {
        let Some(url) = g.url.as_deref() else {
            continue;
        };
        if url.starts_with("builtin:") || out.contains_key(url) {
            continue;
        }
        let doc = cache.fetch(url).await.map_err(|e| {
            let condition = match &e {
                Error::Refused(Refused::NotAllowed(_)) => "not-allowed",
                Error::Refused(Refused::NotFound(_)) => "item-not-found",
                Error::Status {
                    status: 404 | 410, ..
                } => "item-not-found",
                _ => "bad-request",
            };
            refusal(condition, format!("grammar {e}"))
        })?;
        let body = String::from_utf8(doc.body.to_vec())
            .map_err(|_| refusal("bad-request", format!("grammar {url} is not UTF-8")))?;
        let content_type = doc
            .content_type
            .or_else(|| g.content_type.clone())
            .unwrap_or_else(|| "application/srgs+xml".to_owned());
        out.insert(url.to_owned(), FetchedGrammar { content_type, body });
    }
    Ok(out)
}

/// Fetches and renders what `start` needs.
pub async fn prepare(start: ComponentStart, cache: &Cache) -> Result<Prepared, Refusal> {
    let render = |o| async move {
        rayo_media::output::render(o, cache)
            .await
            .map_err(|e| refusal(e.condition(), e.to_string()))
    };
    Ok(match &start {
        ComponentStart::Output(o) => Prepared {
            documents: render(o).await?,
            grammars: HashMap::new(),
        },
        ComponentStart::Prompt(p) => Prepared {
            documents: render(&p.output).await?,
            grammars: grammars(&p.input, cache).await?,
        },
        ComponentStart::Input(i) => Prepared {
            documents: Vec::new(),
            grammars: grammars(i, cache).await?,
        },
        ComponentStart::Record(_) => Prepared::default(),
    })
}

//! Events: the payloads of directed `<presence/>` a call, a mixer or a component sends to
//! its controlling parties (XEP-0327 §5.3).

use minidom::Element;

use crate::error::Error;
use crate::generated::{
    ext, ext_complete, input_complete, output_complete, prompt, rayo, record_complete,
};
use crate::ns;
use crate::payload::typed;

/// An event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A new call is offered for control (§6.2.2).
    Offer(rayo::Offer),
    /// An outbound call rings (§6.2.1).
    Ringing(rayo::Ringing),
    /// An outbound call was answered (§6.2.1).
    Answered(rayo::Answered),
    /// The call ended (§6.6.4); sent in unavailable presence.
    End(rayo::End),
    /// The call or mixer was joined to another party (§6.3).
    Joined(rayo::Joined),
    /// A join was broken (§6.3.2).
    Unjoined(rayo::Unjoined),
    /// A call in a mixer started speaking (§6.4).
    StartedSpeaking(rayo::StartedSpeaking),
    /// A call in a mixer stopped speaking (§6.4).
    StoppedSpeaking(rayo::StoppedSpeaking),
    /// A prompt's input timers started (§6.5.5).
    InputTimersStarted(prompt::InputTimersStarted),
    /// A component ended (§7.19.2); sent in unavailable presence.
    Complete(Complete),
}

/// The `<complete/>` event, typed: its reason and the metadata beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Complete {
    /// Why the component ended.
    pub reason: CompleteReason,
    /// Component-specific metadata, such as a recording.
    pub metadata: Vec<CompleteMetadata>,
}

/// Why a component ended (XEP-0327 §7.19.2 and each component's reasons).
#[derive(Debug, Clone, PartialEq)]
pub enum CompleteReason {
    /// Any component: stopped by a stop command.
    Stop,
    /// Any component: the call ended.
    Hangup,
    /// Any component: an error, with its description.
    Error(String),
    /// An output's own reasons.
    Output(OutputReason),
    /// An input's (or prompt's) own reasons.
    Input(InputReason),
    /// A record component's own reasons.
    Record(RecordReason),
    /// A reason of a component this crate does not know, kept as received.
    Other(Element),
}

/// Why an output ended (§7.19.3).
#[derive(Debug, Clone, PartialEq)]
pub enum OutputReason {
    /// The document was rendered to its end.
    Finish,
    /// `max-time` was reached.
    MaxTime,
}

/// Why an input ended (§7.19.4).
#[derive(Debug, Clone, PartialEq)]
pub enum InputReason {
    /// A grammar matched; the result document (NLSML by default).
    Match(input_complete::Match),
    /// Nothing was received before the initial timeout.
    NoInput,
    /// What was received matched no grammar.
    NoMatch,
}

/// Why a recording ended (§7.19.6).
#[derive(Debug, Clone, PartialEq)]
pub enum RecordReason {
    /// `max-duration` was reached.
    MaxDuration,
    /// Nobody spoke before `initial-timeout`.
    InitialTimeout,
    /// Silence lasted `final-timeout`.
    FinalTimeout,
}

/// Metadata given beside a complete reason.
#[derive(Debug, Clone, PartialEq)]
pub enum CompleteMetadata {
    /// The recording a record component made.
    Recording(record_complete::Recording),
    /// Metadata this crate does not know, kept as received.
    Other(Element),
}

impl Event {
    /// Reads an event payload.
    pub fn parse(elem: Element) -> Result<Event, Error> {
        let ns = elem.ns();
        Ok(match (ns.as_str(), elem.name()) {
            (ns::RAYO, "offer") => Event::Offer(typed(elem)?),
            (ns::RAYO, "ringing") => Event::Ringing(typed(elem)?),
            (ns::RAYO, "answered") => Event::Answered(typed(elem)?),
            (ns::RAYO, "end") => Event::End(typed(elem)?),
            (ns::RAYO, "joined") => Event::Joined(typed(elem)?),
            (ns::RAYO, "unjoined") => Event::Unjoined(typed(elem)?),
            (ns::RAYO, "started-speaking") => Event::StartedSpeaking(typed(elem)?),
            (ns::RAYO, "stopped-speaking") => Event::StoppedSpeaking(typed(elem)?),
            (ns::PROMPT, "input-timers-started") => Event::InputTimersStarted(typed(elem)?),
            (ns::EXT, "complete") => Event::Complete(Complete::from_element(elem)?),
            (_, name) => {
                return Err(Error::UnknownPayload {
                    name: name.to_owned(),
                    ns,
                })
            }
        })
    }

    /// Checks the rules of XEP-0327 that the schema cannot express (see [`crate::rules`]).
    pub fn validate(&self) -> Result<(), Error> {
        crate::rules::event(self)
    }

    /// Whether the event goes in an unavailable presence: `end` and `complete` are the last
    /// word of their entity.
    pub fn is_final(&self) -> bool {
        matches!(self, Event::End(_) | Event::Complete(_))
    }

    /// The element name of the event, such as `offer`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Offer(_) => "offer",
            Event::Ringing(_) => "ringing",
            Event::Answered(_) => "answered",
            Event::End(_) => "end",
            Event::Joined(_) => "joined",
            Event::Unjoined(_) => "unjoined",
            Event::StartedSpeaking(_) => "started-speaking",
            Event::StoppedSpeaking(_) => "stopped-speaking",
            Event::InputTimersStarted(_) => "input-timers-started",
            Event::Complete(_) => "complete",
        }
    }
}

/// Whether `ns`/`name` is an event element.
pub fn is_event(ns: &str, name: &str) -> bool {
    matches!(
        (ns, name),
        (
            ns::RAYO,
            "offer"
                | "ringing"
                | "answered"
                | "end"
                | "joined"
                | "unjoined"
                | "started-speaking"
                | "stopped-speaking"
        ) | (ns::PROMPT, "input-timers-started")
            | (ns::EXT, "complete")
    )
}

impl From<Event> for Element {
    fn from(e: Event) -> Element {
        match e {
            Event::Offer(x) => x.into(),
            Event::Ringing(x) => x.into(),
            Event::Answered(x) => x.into(),
            Event::End(x) => x.into(),
            Event::Joined(x) => x.into(),
            Event::Unjoined(x) => x.into(),
            Event::StartedSpeaking(x) => x.into(),
            Event::StoppedSpeaking(x) => x.into(),
            Event::InputTimersStarted(x) => x.into(),
            Event::Complete(x) => x.into(),
        }
    }
}

impl CompleteReason {
    fn parse(elem: Element) -> Result<CompleteReason, Error> {
        let ns = elem.ns();
        Ok(match (ns.as_str(), elem.name()) {
            (ns::EXT_COMPLETE, "stop") => {
                typed::<ext_complete::Stop>(elem)?;
                CompleteReason::Stop
            }
            (ns::EXT_COMPLETE, "hangup") => {
                typed::<ext_complete::Hangup>(elem)?;
                CompleteReason::Hangup
            }
            (ns::EXT_COMPLETE, "error") => {
                CompleteReason::Error(typed::<ext_complete::Error>(elem)?.text)
            }
            (ns::OUTPUT_COMPLETE, "finish") => {
                typed::<output_complete::Finish>(elem)?;
                CompleteReason::Output(OutputReason::Finish)
            }
            (ns::OUTPUT_COMPLETE, "max-time") => {
                typed::<output_complete::MaxTime>(elem)?;
                CompleteReason::Output(OutputReason::MaxTime)
            }
            (ns::INPUT_COMPLETE, "match") => {
                CompleteReason::Input(InputReason::Match(typed(elem)?))
            }
            (ns::INPUT_COMPLETE, "noinput") => {
                typed::<input_complete::Noinput>(elem)?;
                CompleteReason::Input(InputReason::NoInput)
            }
            (ns::INPUT_COMPLETE, "nomatch") => {
                typed::<input_complete::Nomatch>(elem)?;
                CompleteReason::Input(InputReason::NoMatch)
            }
            (ns::RECORD_COMPLETE, "max-duration") => {
                typed::<record_complete::MaxDuration>(elem)?;
                CompleteReason::Record(RecordReason::MaxDuration)
            }
            (ns::RECORD_COMPLETE, "initial-timeout") => {
                typed::<record_complete::InitialTimeout>(elem)?;
                CompleteReason::Record(RecordReason::InitialTimeout)
            }
            (ns::RECORD_COMPLETE, "final-timeout") => {
                typed::<record_complete::FinalTimeout>(elem)?;
                CompleteReason::Record(RecordReason::FinalTimeout)
            }
            (ns, _) if ns::is_schema_namespace(ns) => {
                return Err(Error::Malformed {
                    name: "complete".to_owned(),
                    reason: format!("<{}/> is not a complete reason", elem.name()),
                })
            }
            _ => CompleteReason::Other(elem),
        })
    }
}

impl From<CompleteReason> for Element {
    fn from(r: CompleteReason) -> Element {
        match r {
            CompleteReason::Stop => ext_complete::Stop.into(),
            CompleteReason::Hangup => ext_complete::Hangup.into(),
            CompleteReason::Error(text) => ext_complete::Error { text }.into(),
            CompleteReason::Output(OutputReason::Finish) => output_complete::Finish.into(),
            CompleteReason::Output(OutputReason::MaxTime) => output_complete::MaxTime.into(),
            CompleteReason::Input(InputReason::Match(m)) => m.into(),
            CompleteReason::Input(InputReason::NoInput) => input_complete::Noinput.into(),
            CompleteReason::Input(InputReason::NoMatch) => input_complete::Nomatch.into(),
            CompleteReason::Record(RecordReason::MaxDuration) => {
                record_complete::MaxDuration.into()
            }
            CompleteReason::Record(RecordReason::InitialTimeout) => {
                record_complete::InitialTimeout.into()
            }
            CompleteReason::Record(RecordReason::FinalTimeout) => {
                record_complete::FinalTimeout.into()
            }
            CompleteReason::Other(e) => e,
        }
    }
}

impl TryFrom<ext::Complete> for Complete {
    type Error = Error;

    fn try_from(c: ext::Complete) -> Result<Complete, Error> {
        let mut children = c.children.into_iter();
        let reason = children.next().ok_or(Error::Rule {
            name: "complete",
            rule: "MUST contain exactly one reason element (XEP-0327 §7.19.2)",
        })?;
        let reason = CompleteReason::parse(reason)?;
        let metadata = children
            .map(|m| {
                if m.is("recording", ns::RECORD_COMPLETE) {
                    typed(m).map(CompleteMetadata::Recording)
                } else if ns::is_schema_namespace(&m.ns()) {
                    // A second reason, or a command: not metadata.
                    Err(Error::Rule {
                        name: "complete",
                        rule: "MUST contain exactly one reason element (XEP-0327 §7.19.2)",
                    })
                } else {
                    Ok(CompleteMetadata::Other(m))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Complete { reason, metadata })
    }
}

impl From<Complete> for ext::Complete {
    fn from(c: Complete) -> ext::Complete {
        let mut children = vec![Element::from(c.reason)];
        children.extend(c.metadata.into_iter().map(|m| match m {
            CompleteMetadata::Recording(r) => r.into(),
            CompleteMetadata::Other(e) => e,
        }));
        ext::Complete { children }
    }
}

impl Complete {
    /// Reads a `<complete/>` element as [`ext::Complete`] would (no attributes, no text,
    /// children of other namespaces, at least one), keeping its children as they are instead
    /// of rebuilding them, then types its reason and metadata.
    pub fn from_element(mut elem: Element) -> Result<Complete, Error> {
        let malformed = |reason: &str| Error::Malformed {
            name: "complete".to_owned(),
            reason: reason.to_owned(),
        };
        if elem.attrs().into_iter().next().is_some() {
            return Err(malformed("unknown attribute"));
        }
        let own = elem.ns();
        let mut children = Vec::new();
        for node in elem.take_nodes() {
            match node {
                minidom::Node::Element(c) if c.ns() == own || c.ns().is_empty() => {
                    return Err(malformed("a child element must be of another namespace"))
                }
                minidom::Node::Element(c) => children.push(c),
                minidom::Node::Text(t) if t.trim().is_empty() => {}
                minidom::Node::Text(_) => return Err(malformed("unexpected text")),
            }
        }
        Complete::try_from(ext::Complete { children })
    }
}

impl From<Complete> for Element {
    fn from(c: Complete) -> Element {
        let mut e = Element::bare("complete", ns::EXT);
        e.append_child(c.reason.into());
        for m in c.metadata {
            e.append_child(match m {
                CompleteMetadata::Recording(r) => r.into(),
                CompleteMetadata::Other(o) => o,
            });
        }
        e
    }
}

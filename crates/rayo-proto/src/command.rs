//! Commands: the payloads of `<iq type='set'/>` a client sends to the service, a call, a
//! mixer or a component (XEP-0327 §5.3), grouped by the entity they address.

use minidom::Element;

use crate::address::EntityKind;
use crate::error::Error;
use crate::generated::{ext, input, output, prompt, rayo, record};
use crate::ns;
use crate::payload::typed;

/// A command, grouped by the kind of entity it addresses.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Sent to the service domain.
    Service(ServiceCommand),
    /// Sent to a call.
    Call(CallCommand),
    /// Sent to a mixer.
    Mixer(MixerCommand),
    /// Sent to a component.
    Component(ComponentCommand),
}

/// Commands the service takes (XEP-0327 §6.2.1).
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceCommand {
    /// Place an outbound call.
    Dial(rayo::Dial),
}

/// Commands a call takes (XEP-0327 §6.2, §6.3, §6.5, §6.6).
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "built once per stanza and moved to the engine; boxing would add an allocation per command"
)]
pub enum CallCommand {
    /// Become the controlling party and signal ringing.
    Accept(rayo::Accept),
    /// Answer the call.
    Answer(rayo::Answer),
    /// Send the caller elsewhere.
    Redirect(rayo::Redirect),
    /// Refuse the call.
    Reject(rayo::Reject),
    /// End the call.
    Hangup(rayo::Hangup),
    /// Join the call's media to another call or a mixer.
    Join(rayo::Join),
    /// Break one join, or all.
    Unjoin(rayo::Unjoin),
    /// Start a component on the call.
    Start(ComponentStart),
}

/// Commands a mixer takes (XEP-0327 §6.4).
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "built once per stanza and moved to the engine; boxing would add an allocation per command"
)]
pub enum MixerCommand {
    /// Join the mixer to another mixer or a call.
    Join(rayo::Join),
    /// Break one join, or all.
    Unjoin(rayo::Unjoin),
    /// Start a component on the mixer.
    Start(ComponentStart),
}

/// The commands that start a component (XEP-0327 §6.5, §7.19).
#[derive(Debug, Clone, PartialEq)]
pub enum ComponentStart {
    /// Render audio.
    Output(output::Output),
    /// Collect input.
    Input(input::Input),
    /// Output and input together.
    Prompt(prompt::Prompt),
    /// Record media.
    Record(record::Record),
}

/// Commands a running component takes (XEP-0327 §6.5).
#[derive(Debug, Clone, PartialEq)]
pub enum ComponentCommand {
    /// Every component: end now.
    Stop(ext::Stop),
    /// An output's (or a prompt's output's) commands.
    Output(OutputCommand),
    /// A record component's commands.
    Record(RecordCommand),
}

/// Commands of an output component (XEP-0327 §7.19.3).
#[derive(Debug, Clone, PartialEq)]
pub enum OutputCommand {
    /// Pause rendering.
    Pause(output::Pause),
    /// Resume rendering.
    Resume(output::Resume),
    /// Faster, by a unit.
    SpeedUp(output::SpeedUp),
    /// Slower, by a unit.
    SpeedDown(output::SpeedDown),
    /// Louder, by a unit.
    VolumeUp(output::VolumeUp),
    /// Quieter, by a unit.
    VolumeDown(output::VolumeDown),
    /// Move the play marker.
    Seek(output::Seek),
}

/// Commands of a record component (XEP-0327 §7.19.6).
#[derive(Debug, Clone, PartialEq)]
pub enum RecordCommand {
    /// Stop recording, keep the file open.
    Pause(record::Pause),
    /// Go on recording into the same file.
    Resume(record::Resume),
}

impl Command {
    /// Reads a command sent to an entity of kind `target`, checking it against the schema
    /// (not against the rules of [`Command::validate`]).
    ///
    /// An element of no known namespace is [`Error::UnknownPayload`], one of a Rayo namespace
    /// that is no command [`Error::UnknownCommand`]; a known command sent to
    /// the wrong kind of entity is [`Error::WrongTarget`]; a malformed one
    /// [`Error::Malformed`].
    pub fn parse(target: EntityKind, elem: Element) -> Result<Command, Error> {
        let ns = elem.ns();
        let name = elem.name().to_owned();
        let wrong = || Error::WrongTarget {
            name: name.clone(),
            target,
        };
        let start = |elem: Element| -> Result<Option<ComponentStart>, Error> {
            Ok(Some(match (ns.as_str(), elem.name()) {
                (ns::OUTPUT, "output") => ComponentStart::Output(typed(elem)?),
                (ns::INPUT, "input") => ComponentStart::Input(typed(elem)?),
                (ns::PROMPT, "prompt") => ComponentStart::Prompt(typed(elem)?),
                (ns::RECORD, "record") => ComponentStart::Record(typed(elem)?),
                _ => return Ok(None),
            }))
        };
        let kind = command_kind(&ns, &name).ok_or_else(|| {
            let (name, ns) = (name.clone(), ns.clone());
            if ns::RAYO_NAMESPACES.contains(&ns.as_str()) {
                Error::UnknownCommand { name, ns }
            } else {
                Error::UnknownPayload { name, ns }
            }
        })?;
        if !kind.targets.contains(&target) {
            return Err(wrong());
        }
        Ok(match target {
            EntityKind::Service => Command::Service(ServiceCommand::Dial(typed(elem)?)),
            EntityKind::Call => Command::Call(match name.as_str() {
                "accept" => CallCommand::Accept(typed(elem)?),
                "answer" => CallCommand::Answer(typed(elem)?),
                "redirect" => CallCommand::Redirect(typed(elem)?),
                "reject" => CallCommand::Reject(typed(elem)?),
                "hangup" => CallCommand::Hangup(typed(elem)?),
                "join" => CallCommand::Join(typed(elem)?),
                "unjoin" => CallCommand::Unjoin(typed(elem)?),
                _ => CallCommand::Start(start(elem)?.ok_or_else(wrong)?),
            }),
            EntityKind::Mixer => Command::Mixer(match name.as_str() {
                "join" => MixerCommand::Join(typed(elem)?),
                "unjoin" => MixerCommand::Unjoin(typed(elem)?),
                _ => MixerCommand::Start(start(elem)?.ok_or_else(wrong)?),
            }),
            EntityKind::Component => Command::Component(match (ns.as_str(), name.as_str()) {
                (ns::EXT, _) => ComponentCommand::Stop(typed(elem)?),
                (ns::RECORD, "pause") => {
                    ComponentCommand::Record(RecordCommand::Pause(typed(elem)?))
                }
                (ns::RECORD, _) => ComponentCommand::Record(RecordCommand::Resume(typed(elem)?)),
                (_, "pause") => ComponentCommand::Output(OutputCommand::Pause(typed(elem)?)),
                (_, "resume") => ComponentCommand::Output(OutputCommand::Resume(typed(elem)?)),
                (_, "speed-up") => ComponentCommand::Output(OutputCommand::SpeedUp(typed(elem)?)),
                (_, "speed-down") => {
                    ComponentCommand::Output(OutputCommand::SpeedDown(typed(elem)?))
                }
                (_, "volume-up") => ComponentCommand::Output(OutputCommand::VolumeUp(typed(elem)?)),
                (_, "volume-down") => {
                    ComponentCommand::Output(OutputCommand::VolumeDown(typed(elem)?))
                }
                _ => ComponentCommand::Output(OutputCommand::Seek(typed(elem)?)),
            }),
        })
    }

    /// [`Command::parse`] followed by [`Command::validate`]: what a server does with every
    /// command before acknowledging it (XEP-0327 §6.5: "The whole command MUST be parsed
    /// up-front, and any applicable validation performed before acknowledgement").
    pub fn parse_valid(target: EntityKind, elem: Element) -> Result<Command, Error> {
        let c = Command::parse(target, elem)?;
        c.validate()?;
        Ok(c)
    }

    /// Checks the rules of XEP-0327 that the schema cannot express (see [`crate::rules`]).
    pub fn validate(&self) -> Result<(), Error> {
        crate::rules::command(self)
    }

    /// The element name of the command, such as `dial`.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Service(ServiceCommand::Dial(_)) => "dial",
            Command::Call(c) => match c {
                CallCommand::Accept(_) => "accept",
                CallCommand::Answer(_) => "answer",
                CallCommand::Redirect(_) => "redirect",
                CallCommand::Reject(_) => "reject",
                CallCommand::Hangup(_) => "hangup",
                CallCommand::Join(_) => "join",
                CallCommand::Unjoin(_) => "unjoin",
                CallCommand::Start(s) => s.name(),
            },
            Command::Mixer(m) => match m {
                MixerCommand::Join(_) => "join",
                MixerCommand::Unjoin(_) => "unjoin",
                MixerCommand::Start(s) => s.name(),
            },
            Command::Component(c) => match c {
                ComponentCommand::Stop(_) => "stop",
                ComponentCommand::Output(o) => match o {
                    OutputCommand::Pause(_) => "pause",
                    OutputCommand::Resume(_) => "resume",
                    OutputCommand::SpeedUp(_) => "speed-up",
                    OutputCommand::SpeedDown(_) => "speed-down",
                    OutputCommand::VolumeUp(_) => "volume-up",
                    OutputCommand::VolumeDown(_) => "volume-down",
                    OutputCommand::Seek(_) => "seek",
                },
                ComponentCommand::Record(RecordCommand::Pause(_)) => "pause",
                ComponentCommand::Record(RecordCommand::Resume(_)) => "resume",
            },
        }
    }

    /// The kind of entity the command addresses.
    pub fn target(&self) -> EntityKind {
        match self {
            Command::Service(_) => EntityKind::Service,
            Command::Call(_) => EntityKind::Call,
            Command::Mixer(_) => EntityKind::Mixer,
            Command::Component(_) => EntityKind::Component,
        }
    }

    /// The `<header/>`s the command asks to be signalled (XEP-0327 §6.7): those of a dial,
    /// accept, answer, redirect, reject or hangup; none for other commands.
    pub fn headers(&self) -> &[rayo::Header] {
        match self {
            Command::Service(ServiceCommand::Dial(d)) => &d.headers,
            Command::Call(CallCommand::Accept(a)) => &a.headers,
            Command::Call(CallCommand::Answer(a)) => &a.headers,
            Command::Call(CallCommand::Redirect(r)) => &r.headers,
            Command::Call(CallCommand::Reject(r)) => &r.headers,
            Command::Call(CallCommand::Hangup(h)) => &h.headers,
            _ => &[],
        }
    }
}

impl ComponentStart {
    /// The element name: `output`, `input`, `prompt` or `record`.
    pub fn name(&self) -> &'static str {
        match self {
            ComponentStart::Output(_) => "output",
            ComponentStart::Input(_) => "input",
            ComponentStart::Prompt(_) => "prompt",
            ComponentStart::Record(_) => "record",
        }
    }
}

/// Where a command element may be sent.
struct CommandKind {
    targets: &'static [EntityKind],
}

/// The entities that take the command `ns`/`name`, or `None` if it is not a command.
fn command_kind(ns: &str, name: &str) -> Option<CommandKind> {
    use EntityKind::*;
    let targets: &'static [EntityKind] = match (ns, name) {
        (ns::RAYO, "dial") => &[Service],
        (ns::RAYO, "accept" | "answer" | "redirect" | "reject" | "hangup") => &[Call],
        (ns::RAYO, "join" | "unjoin") => &[Call, Mixer],
        (ns::OUTPUT, "output") | (ns::INPUT, "input") | (ns::PROMPT, "prompt") => &[Call, Mixer],
        (ns::RECORD, "record") => &[Call, Mixer],
        (ns::EXT, "stop") => &[Component],
        (
            ns::OUTPUT,
            "pause" | "resume" | "speed-up" | "speed-down" | "volume-up" | "volume-down" | "seek",
        ) => &[Component],
        (ns::RECORD, "pause" | "resume") => &[Component],
        _ => return None,
    };
    Some(CommandKind { targets })
}

/// Whether `ns`/`name` is a command element (of any target).
pub fn is_command(ns: &str, name: &str) -> bool {
    command_kind(ns, name).is_some()
}

impl From<ComponentStart> for Element {
    fn from(s: ComponentStart) -> Element {
        match s {
            ComponentStart::Output(x) => x.into(),
            ComponentStart::Input(x) => x.into(),
            ComponentStart::Prompt(x) => x.into(),
            ComponentStart::Record(x) => x.into(),
        }
    }
}

impl From<Command> for Element {
    fn from(c: Command) -> Element {
        match c {
            Command::Service(ServiceCommand::Dial(x)) => x.into(),
            Command::Call(c) => match c {
                CallCommand::Accept(x) => x.into(),
                CallCommand::Answer(x) => x.into(),
                CallCommand::Redirect(x) => x.into(),
                CallCommand::Reject(x) => x.into(),
                CallCommand::Hangup(x) => x.into(),
                CallCommand::Join(x) => x.into(),
                CallCommand::Unjoin(x) => x.into(),
                CallCommand::Start(s) => s.into(),
            },
            Command::Mixer(m) => match m {
                MixerCommand::Join(x) => x.into(),
                MixerCommand::Unjoin(x) => x.into(),
                MixerCommand::Start(s) => s.into(),
            },
            Command::Component(c) => match c {
                ComponentCommand::Stop(x) => x.into(),
                ComponentCommand::Output(o) => match o {
                    OutputCommand::Pause(x) => x.into(),
                    OutputCommand::Resume(x) => x.into(),
                    OutputCommand::SpeedUp(x) => x.into(),
                    OutputCommand::SpeedDown(x) => x.into(),
                    OutputCommand::VolumeUp(x) => x.into(),
                    OutputCommand::VolumeDown(x) => x.into(),
                    OutputCommand::Seek(x) => x.into(),
                },
                ComponentCommand::Record(RecordCommand::Pause(x)) => x.into(),
                ComponentCommand::Record(RecordCommand::Resume(x)) => x.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn elem(s: &str) -> Element {
        s.parse().expect("test XML")
    }

    #[test]
    fn dispatch_by_target() {
        let out =
            "<output xmlns='urn:xmpp:rayo:output:1'><document url='http://x/a.wav'/></output>";
        assert!(matches!(
            Command::parse(EntityKind::Call, elem(out)),
            Ok(Command::Call(CallCommand::Start(ComponentStart::Output(_))))
        ));
        assert!(matches!(
            Command::parse(EntityKind::Mixer, elem(out)),
            Ok(Command::Mixer(MixerCommand::Start(ComponentStart::Output(
                _
            ))))
        ));
        let pause = "<pause xmlns='urn:xmpp:rayo:record:1'/>";
        assert!(matches!(
            Command::parse(EntityKind::Component, elem(pause)),
            Ok(Command::Component(ComponentCommand::Record(
                RecordCommand::Pause(_)
            )))
        ));
    }

    #[test]
    fn wrong_target_is_feature_not_implemented() {
        let e = Command::parse(
            EntityKind::Call,
            elem("<stop xmlns='urn:xmpp:rayo:ext:1'/>"),
        );
        let e = e.expect_err("stop is not for calls");
        assert_eq!(e.condition_name(), "feature-not-implemented");
        let e = Command::parse(
            EntityKind::Call,
            elem("<dial xmlns='urn:xmpp:rayo:1' to='tel:1'/>"),
        )
        .expect_err("dial goes to the service");
        assert!(matches!(e, Error::WrongTarget { .. }));
    }

    #[test]
    fn unknown_is_service_unavailable() {
        let e = Command::parse(EntityKind::Call, elem("<foo xmlns='urn:example'/>"))
            .expect_err("unknown");
        assert_eq!(e.condition_name(), "service-unavailable");
    }

    #[test]
    fn malformed_is_bad_request() {
        let e = Command::parse(
            EntityKind::Call,
            elem("<output xmlns='urn:xmpp:rayo:output:1' repeat-times='foo'/>"),
        )
        .expect_err("repeat-times must be a number");
        assert_eq!(e.condition_name(), "bad-request");
        assert_eq!(crate::error::type_name(&e.error_type()), "modify");
    }
}

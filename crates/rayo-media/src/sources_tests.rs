#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use super::*;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rayo-sources-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    d
}

#[test]
fn nothing_is_allowed_by_default() {
    let s = Sources::default();
    assert!(matches!(
        s.check_http("https://example.com/a.wav"),
        Err(Refused::NotAllowed(_))
    ));
    assert!(matches!(
        s.check_file("file:///etc/passwd", "/etc/passwd"),
        Err(Refused::NotAllowed(_))
    ));
}

#[test]
fn http_prefixes_match_scheme_host_port_and_path() {
    let s = Sources::new(
        &[],
        &[
            "https://Prompts.example.com/audio/".into(),
            "http://127.0.0.1:8080/".into(),
        ],
        1000,
    )
    .expect("sources");
    let ok = Allowed::Http { public_only: false };
    assert_eq!(
        s.check_http("https://prompts.example.com/audio/x.wav"),
        Ok(ok.clone())
    );
    assert_eq!(
        s.check_http("https://prompts.example.com:443/audio/x.wav"),
        Ok(ok.clone())
    );
    assert_eq!(s.check_http("http://127.0.0.1:8080/anything"), Ok(ok));
    for refused in [
        "http://prompts.example.com/audio/x.wav", // another scheme
        "https://prompts.example.com:444/audio/x.wav", // another port
        "https://prompts.example.com/audiox/x.wav", // another path
        "https://prompts.example.com.evil.test/audio/x.wav",
        "https://prompts.example.com@evil.test/audio/x.wav", // user info
        "https://prompts.example.com/audio/../secret/x.wav", // climbing out of the prefix
        "https://prompts.example.com/audio/%2E%2E/secret/x.wav",
        "http://127.0.0.1:8081/x",
        "http://localhost:8080/x",
        "gopher://prompts.example.com/audio/",
        "not a url",
    ] {
        assert!(
            matches!(s.check_http(refused), Err(Refused::NotAllowed(_))),
            "{refused} is refused"
        );
    }
    assert!(s.trusted_host("PROMPTS.example.com", 443));
    assert!(!s.trusted_host("prompts.example.com", 80));
}

#[test]
fn bad_prefixes_are_refused_at_configuration() {
    for bad in [
        "https://example.com",
        "https://user@example.com/",
        "ftp://example.com/",
        "https://example.com/?q=1/",
        "/relative/",
    ] {
        assert!(
            matches!(
                Sources::new(&[], &[bad.into()], 1),
                Err(ConfigError::Prefix(_))
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        Sources::new(&[PathBuf::from("relative")], &[], 1),
        Err(ConfigError::Dir { .. })
    ));
}

#[test]
fn any_public_host_refuses_private_address_literals() {
    let s = Sources::new(&[], &["*".into()], 1000).expect("sources");
    assert_eq!(
        s.check_http("https://example.com/x.wav"),
        Ok(Allowed::Http { public_only: true })
    );
    for private in [
        "http://127.0.0.1/",
        "http://10.1.2.3/",
        "http://192.168.0.1:8080/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ] {
        assert!(
            matches!(s.check_http(private), Err(Refused::NotAllowed(_))),
            "{private} is refused"
        );
    }
}

#[test]
fn public_addresses() {
    for (ip, public) in [
        ("8.8.8.8", true),
        ("2001:4860:4860::8888", true),
        ("127.0.0.2", false),
        ("172.16.0.1", false),
        ("100.64.0.1", false),
        ("198.18.0.1", false),
        ("224.0.0.1", false),
        ("255.255.255.255", false),
        ("240.0.0.1", false),
        ("192.0.2.1", false),
        ("fe80::1", false),
        ("ff02::1", false),
        ("2001:db8::1", false),
        ("64:ff9b::7f00:1", false),
        ("64:ff9b::808:808", true),
        ("::", false),
    ] {
        assert_eq!(is_public(ip.parse().expect("ip")), public, "{ip}");
    }
}

#[test]
fn files_only_under_allowed_directories_and_only_regular_files() {
    let root = temp_dir("files");
    let allowed = root.join("prompts");
    let outside = root.join("secret");
    std::fs::create_dir_all(allowed.join("sub")).expect("dir");
    std::fs::create_dir_all(&outside).expect("dir");
    std::fs::write(allowed.join("sub/hello.wav"), b"RIFF").expect("write");
    std::fs::write(outside.join("key.pem"), b"PRIVATE").expect("write");
    let s = Sources::new(std::slice::from_ref(&allowed), &[], 1000).expect("sources");
    let check = |p: &Path| {
        let path = p.to_str().expect("utf-8").to_owned();
        s.check_file(&format!("file://{path}"), &path)
    };
    let inside = allowed.join("sub/hello.wav");
    assert_eq!(check(&inside), Ok(inside.canonicalize().expect("resolves")));
    // Outside, through `..`, or a directory: refused, and nothing tells whether it exists.
    let not_allowed = |r: Result<PathBuf, Refused>| matches!(r, Err(Refused::NotAllowed(_)));
    assert!(not_allowed(check(&outside.join("key.pem"))));
    assert!(not_allowed(check(&outside.join("missing.pem"))));
    assert!(not_allowed(check(&allowed.join("../secret/key.pem"))));
    assert!(not_allowed(check(&allowed.join("sub"))));
    assert!(not_allowed(check(Path::new("/dev/zero"))));
    // A missing file inside may say so.
    assert!(matches!(
        check(&allowed.join("missing.wav")),
        Err(Refused::NotFound(_))
    ));
    #[cfg(unix)]
    {
        // A symlink inside pointing outside is refused.
        std::os::unix::fs::symlink(outside.join("key.pem"), allowed.join("link.wav"))
            .expect("symlink");
        assert!(not_allowed(check(&allowed.join("link.wav"))));
        std::os::unix::fs::symlink(&outside, allowed.join("out")).expect("symlink");
        assert!(not_allowed(check(&allowed.join("out/key.pem"))));
    }
    let _ = std::fs::remove_dir_all(&root);
}

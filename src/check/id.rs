//! [`CheckId`]: the one list of checks. The report's order, the ids in the
//! table and the JSON, the titles and `check --help` all come from it.

use std::fmt;

/// One check. Variants are declared in report order, so sorting by id sorts
/// by that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckId {
    Https,
    MetadataPathInserted,
    MetadataRoot,
    MetadataFields,
    MetadataResource,
    MetadataCors,
    AuthorizationServerMetadata,
    PkceS256,
    PublicClientRegistration,
    Unauthenticated401,
    ChallengeResourceMetadata,
    ChallengeScope,
    NoErrorWithoutCredentials,
    McpCors,
    AuthenticatedInitialize,
    AuthenticatedToolsList,
    ProtocolVersions,
    InsufficientScope,
    WrongAudienceRefused,
    AnswersResource,
    AnswersAuthorizationServer,
    AnswersResourceKnown,
    AnswersScopesDefined,
    AnswersScopesAdvertised,
    AnswersPublicClients,
    AnswersKeys,
    AnswersAudience,
}

impl CheckId {
    /// Every check, in report order.
    pub const ALL: [CheckId; 27] = [
        CheckId::Https,
        CheckId::MetadataPathInserted,
        CheckId::MetadataRoot,
        CheckId::MetadataFields,
        CheckId::MetadataResource,
        CheckId::MetadataCors,
        CheckId::AuthorizationServerMetadata,
        CheckId::PkceS256,
        CheckId::PublicClientRegistration,
        CheckId::Unauthenticated401,
        CheckId::ChallengeResourceMetadata,
        CheckId::ChallengeScope,
        CheckId::NoErrorWithoutCredentials,
        CheckId::McpCors,
        CheckId::AuthenticatedInitialize,
        CheckId::AuthenticatedToolsList,
        CheckId::ProtocolVersions,
        CheckId::InsufficientScope,
        CheckId::WrongAudienceRefused,
        CheckId::AnswersResource,
        CheckId::AnswersAuthorizationServer,
        CheckId::AnswersResourceKnown,
        CheckId::AnswersScopesDefined,
        CheckId::AnswersScopesAdvertised,
        CheckId::AnswersPublicClients,
        CheckId::AnswersKeys,
        CheckId::AnswersAudience,
    ];

    /// Stable, kebab-case: scripts and users refer to checks by it.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Https => "https",
            CheckId::MetadataPathInserted => "metadata-path-inserted",
            CheckId::MetadataRoot => "metadata-root",
            CheckId::MetadataFields => "metadata-fields",
            CheckId::MetadataResource => "metadata-resource",
            CheckId::MetadataCors => "metadata-cors",
            CheckId::AuthorizationServerMetadata => "authorization-server-metadata",
            CheckId::PkceS256 => "pkce-s256",
            CheckId::PublicClientRegistration => "public-client-registration",
            CheckId::Unauthenticated401 => "unauthenticated-401",
            CheckId::ChallengeResourceMetadata => "challenge-resource-metadata",
            CheckId::ChallengeScope => "challenge-scope",
            CheckId::NoErrorWithoutCredentials => "no-error-without-credentials",
            CheckId::McpCors => "mcp-cors",
            CheckId::AuthenticatedInitialize => "authenticated-initialize",
            CheckId::AuthenticatedToolsList => "authenticated-tools-list",
            CheckId::ProtocolVersions => "protocol-versions",
            CheckId::InsufficientScope => "insufficient-scope",
            CheckId::WrongAudienceRefused => "wrong-audience-refused",
            CheckId::AnswersResource => "answers-resource",
            CheckId::AnswersAuthorizationServer => "answers-authorization-server",
            CheckId::AnswersResourceKnown => "answers-resource-known",
            CheckId::AnswersScopesDefined => "answers-scopes-defined",
            CheckId::AnswersScopesAdvertised => "answers-scopes-advertised",
            CheckId::AnswersPublicClients => "answers-public-clients",
            CheckId::AnswersKeys => "answers-keys",
            CheckId::AnswersAudience => "answers-audience",
        }
    }

    /// What the check asserts, in a few words (the JSON's `title`).
    pub fn title(self) -> &'static str {
        match self {
            CheckId::Https => "HTTPS",
            CheckId::MetadataPathInserted => "Protected resource metadata (path-inserted location)",
            CheckId::MetadataRoot => "Protected resource metadata (root location)",
            CheckId::MetadataFields => "Metadata has resource and authorization_servers",
            CheckId::MetadataResource => "Metadata resource matches the URL",
            CheckId::MetadataCors => "Metadata readable by browser clients (CORS)",
            CheckId::AuthorizationServerMetadata => "Authorization server metadata reachable",
            CheckId::PkceS256 => "Authorization server supports PKCE S256",
            CheckId::PublicClientRegistration => "Public clients can register (DCR or CIMD)",
            CheckId::Unauthenticated401 => "Unauthenticated request gets 401",
            CheckId::ChallengeResourceMetadata => {
                "Challenge points to the metadata (resource_metadata)"
            }
            CheckId::ChallengeScope => "Challenge names the scopes (scope)",
            CheckId::NoErrorWithoutCredentials => "No error code without credentials",
            CheckId::McpCors => "Browser clients can reach the endpoint (CORS)",
            CheckId::AuthenticatedInitialize => "Authenticated initialize succeeds",
            CheckId::AuthenticatedToolsList => "Authenticated tools/list succeeds",
            CheckId::ProtocolVersions => "MCP revisions spoken",
            CheckId::InsufficientScope => "Missing scope gets 403 insufficient_scope",
            CheckId::WrongAudienceRefused => "Token for another audience refused",
            CheckId::AnswersResource => "Metadata resource is the answered resource",
            CheckId::AnswersAuthorizationServer => {
                "Metadata names the answered authorization server"
            }
            CheckId::AnswersResourceKnown => "The authorization server knows the resource id",
            CheckId::AnswersScopesDefined => "Answered scopes defined at the authorization server",
            CheckId::AnswersScopesAdvertised => "Server advertises the answered scopes",
            CheckId::AnswersPublicClients => "DCR, CIMD and public clients enabled",
            CheckId::AnswersKeys => "RS256 signing keys served",
            CheckId::AnswersAudience => "Token's aud and iss accepted by the answers",
        }
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`, so `{:<width$}` lines up columns.
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_all_is_in_declaration_order() {
        let ids: HashSet<&str> = CheckId::ALL.iter().map(|id| id.as_str()).collect();
        assert_eq!(ids.len(), CheckId::ALL.len());
        let titles: HashSet<&str> = CheckId::ALL.iter().map(|id| id.title()).collect();
        assert_eq!(titles.len(), CheckId::ALL.len());
        for (position, id) in CheckId::ALL.into_iter().enumerate() {
            assert_eq!(id as usize, position, "{id:?} out of order in ALL");
        }
    }

    #[test]
    fn ids_are_kebab_case_and_displayed_as_such() {
        for id in CheckId::ALL {
            let text = id.as_str();
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{text}"
            );
            assert_eq!(id.to_string(), text);
        }
        assert_eq!(format!("[{:<7}]", CheckId::Https), "[https  ]");
    }
}

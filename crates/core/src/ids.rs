//! Typed identifiers. Every id is a UUIDv7, so ids sort by creation time and
//! B-tree indexes stay append-mostly; distinct types stop a `UserId` being
//! passed where an `ApiKeyId` is meant.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        /// For `sqlx(try_from = "Uuid")`: an id column read into its type.
        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// A user account.
    UserId
);
typed_id!(
    /// An API key (the id, never the secret).
    ApiKeyId
);
typed_id!(
    /// A chain of refresh tokens born from one login; revoked as a whole.
    SessionId
);

typed_id!(
    /// A client's submission (text, files, voice).
    SubmissionId
);
typed_id!(
    /// One processing of a submission through the pipeline.
    RunId
);
typed_id!(
    /// A file attached to a submission.
    FileId
);
typed_id!(
    /// A job on the marketplace.
    JobId
);
typed_id!(
    /// A freelancer's application to a job.
    ApplicationId
);
typed_id!(
    /// One party's review of the other after a completed job.
    ReviewId
);
typed_id!(
    /// A unit of background work in the durable queue (a pipeline step, a
    /// training run, a re-embedding).
    TaskId
);
typed_id!(
    /// One delivery of a message to one user on one channel.
    NotificationId
);
typed_id!(
    /// A ranked list of freelancers as shown for a job; feedback refers to it.
    MatchListId
);
typed_id!(
    /// One trained ranker in the model registry.
    ModelVersionId
);
typed_id!(
    /// One locale's page of the content service.
    PageId
);
typed_id!(
    /// Pages that are translations of each other share one.
    TranslationGroupId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_created_later_sort_later() {
        let first = UserId::new();
        let second = UserId::new();
        assert!(first < second);
    }

    #[test]
    fn ids_round_trip_through_strings() {
        let id = ApiKeyId::new();
        let parsed: ApiKeyId = id.to_string().parse().expect("valid uuid");
        assert_eq!(id, parsed);
    }
}

//! `Reject{Follow}`: a remote actor refused (or removed) one of our accounts as a follower.

use crate::{
    federation::{
        activities::{HandleError, Handled, Inbound, accept::our_follow},
        context::FederationContext,
    },
    services::follows,
};

pub(super) async fn receive(ctx: &FederationContext, activity: &Inbound) -> Result<Handled, HandleError> {
    match our_follow(ctx, activity).await? {
        Some((follower_id, followee_id)) => {
            follows::remote_rejected(&ctx.db, follower_id, followee_id).await?;
            Ok(Handled::Applied)
        }
        None => Ok(Handled::Ignored("Reject of nothing we asked for")),
    }
}

//! The role matrix: every route is added with the [`Access`] it requires, in one table that
//! is both the router and the list the role-matrix test walks. A route cannot exist without
//! saying who may call it.

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::handler::Handler;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::MethodFilter;

use super::csrf;
use super::error::{Problem, is_api_path, problem_response};
use super::principal::Principal;
use crate::accounts::Role;
use crate::app::App;
use crate::organisations::OrgRole;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not.
    Public,
    /// Any logged-in person.
    User,
    /// A logged-in citizen.
    Citizen,
    /// Logged-in staff with one of these roles.
    Staff(&'static [Role]),
    /// An API key with this scope.
    Scope(&'static str),
    /// Any valid API key, whatever its scopes (for "who am I" and the like).
    AnyKey,
    /// A logged-in member of an organisation with one of these roles in it, acting for the
    /// organisation the console shows (see [`SessionUser::organisation`]).
    ///
    /// [`SessionUser::organisation`]: super::principal::SessionUser::organisation
    Member(&'static [OrgRole]),
}

/// Counter staff: clerks and their managers.
pub const COUNTER: &[Role] = &[Role::Clerk, Role::Manager];
pub const MANAGERS: &[Role] = &[Role::Manager];
pub const ADMINS: &[Role] = &[Role::Admin];

/// The outcome of checking a principal against an access rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Unauthenticated,
    Forbidden,
}

impl Access {
    pub fn decide(self, p: &Principal) -> Decision {
        match (self, p) {
            (Access::Public, _) => Decision::Allow,
            (Access::Scope(scope), Principal::Key(k)) => {
                if k.scopes.iter().any(|s| s == scope) {
                    Decision::Allow
                } else {
                    Decision::Forbidden
                }
            }
            (Access::Scope(_), _) => Decision::Unauthenticated,
            (Access::AnyKey, Principal::Key(_)) => Decision::Allow,
            (Access::AnyKey, _) => Decision::Unauthenticated,
            (_, Principal::Anonymous | Principal::Key(_)) => Decision::Unauthenticated,
            (Access::User, Principal::User(_)) => Decision::Allow,
            (Access::Citizen, Principal::User(u)) if u.role == Role::Citizen => Decision::Allow,
            (Access::Staff(roles), Principal::User(u)) if roles.contains(&u.role) => {
                Decision::Allow
            }
            (Access::Member(roles), Principal::User(u))
                if u.organisation
                    .as_ref()
                    .is_some_and(|m| roles.contains(&m.role)) =>
            {
                Decision::Allow
            }
            (Access::Citizen | Access::Staff(_) | Access::Member(_), Principal::User(_)) => {
                Decision::Forbidden
            }
        }
    }
}

/// One row of the role matrix.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

/// A set of routes with their access rules and the OpenAPI description of their API routes;
/// capabilities return one, the binary merges them, and the merged description is what
/// `/api/v1/openapi.json` and `/api` show.
#[derive(Default)]
pub struct Routes {
    specs: Vec<RouteSpec>,
    router: Router<App>,
    api_doc: utoipa::openapi::OpenApi,
}

/// Left on a response by the access guard: the request reached its handler. Middleware that
/// must tell a handler's answer from a refusal before it (idempotency) looks for it.
#[derive(Debug, Clone, Copy)]
pub struct Admitted;

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self
    where
        H: Handler<T, App>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("route {path}: unsupported method {method}"));
        let mr = axum::routing::on(filter, handler).route_layer(axum::middleware::from_fn(
            move |req: Request, next: Next| guard(access, req, next),
        ));
        self.router = self.router.route(path, mr);
        self.specs.push(RouteSpec {
            method,
            path,
            access,
        });
        self
    }

    pub fn get<H: Handler<T, App>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        h: H,
    ) -> Self {
        self.add(Method::GET, path, access, h)
    }

    pub fn post<H: Handler<T, App>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        h: H,
    ) -> Self {
        self.add(Method::POST, path, access, h)
    }

    pub fn put<H: Handler<T, App>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        h: H,
    ) -> Self {
        self.add(Method::PUT, path, access, h)
    }

    pub fn patch<H: Handler<T, App>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        h: H,
    ) -> Self {
        self.add(Method::PATCH, path, access, h)
    }

    pub fn delete<H: Handler<T, App>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        h: H,
    ) -> Self {
        self.add(Method::DELETE, path, access, h)
    }

    /// Adds the OpenAPI description of some of these routes: usually a capability's
    /// `#[derive(utoipa::OpenApi)]` document listing its `#[utoipa::path]` handlers.
    pub fn openapi(mut self, doc: utoipa::openapi::OpenApi) -> Self {
        self.api_doc.merge(doc);
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.specs.extend(other.specs);
        self.router = self.router.merge(other.router);
        self.api_doc.merge(other.api_doc);
        self
    }

    pub fn specs(&self) -> &[RouteSpec] {
        &self.specs
    }

    /// The finished OpenAPI document of these routes: the merged descriptions, completed from
    /// the role matrix (security, error responses, `Idempotency-Key`); see [`super::openapi`].
    pub fn api_document(&self) -> utoipa::openapi::OpenApi {
        super::openapi::finish(self.api_doc.clone(), &self.specs)
    }

    /// Differences between the API routes and their description; empty when they agree.
    pub fn api_mismatches(&self) -> Vec<String> {
        super::openapi::mismatches(&self.specs, &self.api_document())
    }

    pub fn into_parts(self) -> (Vec<RouteSpec>, Router<App>) {
        (self.specs, self.router)
    }
}

/// The access guard of every route: admits the request or refuses it, and leaves the route's
/// path pattern on the response for the metrics (which run outside the router).
async fn guard(access: Access, req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let mut res = admit(access, req, next).await;
    if let Some(m) = matched {
        res.extensions_mut().insert(m);
    }
    res
}

async fn admit(access: Access, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let principal = req
        .extensions()
        .get::<Principal>()
        .cloned()
        .unwrap_or(Principal::Anonymous);
    match access.decide(&principal) {
        Decision::Allow => {}
        Decision::Unauthenticated if is_api_path(&path) => {
            let mut r = problem_response(
                &path,
                Problem::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "a valid API key is required",
                ),
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            return r;
        }
        Decision::Unauthenticated => {
            let next_path = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".into());
            let target = format!(
                "/login?{}",
                serde_urlencoded::to_string([("next", next_path.as_str())]).unwrap_or_default()
            );
            return Redirect::to(&target).into_response();
        }
        Decision::Forbidden => {
            return problem_response(
                &path,
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "forbidden"),
            );
        }
    }
    let mut res = if !is_api_path(&path) && !req.method().is_safe() {
        match csrf::check(req).await {
            Ok(req) => next.run(req).await,
            Err(r) => return r,
        }
    } else {
        next.run(req).await
    };
    res.extensions_mut().insert(Admitted);
    res
}

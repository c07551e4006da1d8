#[slim::model(scope = "net")]
struct Net;

fn main() {}

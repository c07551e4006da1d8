#[slim::model]
struct Net;

#[slim::model]
impl Clone for Net {
    fn clone(&self) -> Self {
        Net
    }
}

fn main() {}

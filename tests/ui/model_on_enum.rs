#[slim::model]
enum Net {
    Small,
    Large,
}

fn main() {}

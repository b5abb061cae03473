fn main() {
    mam::run()
}

// Does nothing, at once.
exports.handler = async () => {}

// Lives outside the functions folder; scripts edit it.
module.exports = { msg: 'msg v1' }

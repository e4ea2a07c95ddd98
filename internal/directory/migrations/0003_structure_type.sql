-- The type of a school (école, collège, lycée, lycée professionnel, other), as the
-- national directory or an administrator says it, and the raw AAF code it came from
-- (ENTStructureTypeStruct: CLG, LYC, LP, LPO, EREA...). Existing rows are left empty
-- ('' = not known yet): the next AAF import or an administrator sets it, and readers
-- that need a type until then guess it from the name (news.SchoolType). A guess
-- written here once would look like a fact and never be corrected.
ALTER TABLE structures ADD COLUMN school_type TEXT NOT NULL DEFAULT '';

ALTER TABLE structures ADD COLUMN type_code TEXT NOT NULL DEFAULT '';
